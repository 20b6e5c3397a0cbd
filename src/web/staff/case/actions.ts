/**
 * Which case actions to offer on the case page: the command must be allowed from the case's status by
 * the state machine (src/domain/case-state.ts `canApply`), the staff member's roles must include the
 * action it needs (src/domain/roles.ts, as cases/policy.ts `commandAction` maps them), and they must
 * stand on the right side of the case (the intake hall forwards and hands over; the competent department
 * accepts and decides). The server checks all of it again; this only hides buttons that would fail.
 */
import { type CaseCommandType, canApply } from '../../../domain/case-state.ts';
import type { Action } from '../../../domain/roles.ts';
import type { CaseView, TimelineEntry } from '../api/types.ts';
import { can, myDepartmentIds, myHallCodes } from '../session.ts';

/** The staff-side commands the case page offers, in the order of the buttons. */
export const OFFERED: readonly CaseCommandType[] = [
  'forward',
  'accept',
  'request_supplement',
  'resubmit',
  'not_accept',
  'start_review',
  'start_special_procedure',
  'end_special_procedure',
  'extend',
  'decide',
  'deliver',
  'reassign',
  'withdraw',
];

/** Keyboard shortcut of the frequent ones. */
export const ACTION_KEYS: Partial<Record<CaseCommandType, string>> = {
  forward: 'f',
  accept: 'a',
  request_supplement: 's',
  decide: 'd',
  extend: 'e',
};

const ACTION_OF: Partial<Record<CaseCommandType, Action>> = {
  forward: 'case.forward',
  reassign: 'case.reassign',
  deliver: 'case.deliver',
  decide: 'case.decide',
  extend: 'case.decide',
  resubmit: 'case.read',
  withdraw: 'case.read',
};

/** Whether the case was forwarded since its last reassignment (from the timeline). */
export function forwarded(timeline: readonly TimelineEntry[]): boolean {
  let state = false;
  for (const e of timeline) {
    if (e.type === 'forward') state = true;
    if (e.type === 'reassign') state = false;
  }
  return state;
}

/** Supplement notices issued so far (a second one needs a reason). */
export function supplementNotices(timeline: readonly TimelineEntry[]): number {
  return timeline.filter((e) => e.type === 'request_supplement').length;
}

/** The commands to offer for this case now. */
export function offeredActions(c: CaseView, timeline: readonly TimelineEntry[]): CaseCommandType[] {
  const atIntake = !!c.intakeHallCode && myHallCodes.value.includes(c.intakeHallCode);
  const competent = !!c.competentDepartmentId && myDepartmentIds.value.includes(c.competentDepartmentId);
  const wasForwarded = forwarded(timeline);
  const extended = timeline.some((e) => e.type === 'extend');
  return OFFERED.filter((type) => {
    if (!canApply(c.status, type)) return false;
    if (!can(ACTION_OF[type] ?? 'case.accept')) return false;
    switch (type) {
      case 'forward':
        return atIntake && !wasForwarded;
      case 'resubmit':
      case 'withdraw':
        return atIntake || competent;
      case 'reassign':
        return competent || (atIntake && ['submitted', 'received'].includes(c.status));
      case 'deliver': {
        // pickup results are handed over at the pickup desk; mail and e-licences are issued here
        const pref = (c.delivery as { preference?: { method?: string } } | null)?.preference?.method;
        return (competent || atIntake) && pref !== 'pickup';
      }
      case 'accept':
      case 'request_supplement':
      case 'not_accept':
        if (c.processingMode === 'off_site_intake' && c.status === 'received' && !wasForwarded) return false;
        return competent;
      case 'extend':
        return competent && !extended;
      default:
        return competent;
    }
  });
}

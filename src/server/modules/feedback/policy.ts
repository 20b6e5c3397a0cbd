import { notFound } from '../../../domain/errors.ts';
import {
  anyGrantAllows,
  type Grant,
  grantInForce,
  roleAllows,
  type ScopeTarget,
} from '../../../domain/roles.ts';
import { forbidden, requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';
import type { FeedbackPlaces } from './repository.ts';

/**
 * Who may do what with staff feedback (一线反馈), 等保 2.0 (GB/T 22239-2019) 8.1.4.2 访问控制:
 * - report: staff holding `feedback.report` in force (every staff role but leader and auditor);
 * - read and comment: the reporter, the owner (the staff account, or staff bound to the owning
 *   department) and triagers whose scope covers the report's place;
 * - triage and close: `feedback.triage` (administrators) over the report's place — its division (a
 *   county / prefecture / province subtree), its hall or its department.
 * A report the caller may not read is `404 feedback.not_found` for every request about it (the message
 * names nothing of it), like cases.
 */

/** Where a report lies, as the grants see it. */
export interface FeedbackPlace {
  divisionCode: string;
  hallCode: string | null;
  departmentId: string | null;
}

/** A report as the policy needs it. */
export interface FeedbackParties extends FeedbackPlace {
  reporterAccountId: string;
  ownerKind: 'staff' | 'department' | null;
  ownerId: string | null;
}

/** The grant target of a report's place. */
export function feedbackTarget(place: FeedbackPlace): ScopeTarget {
  return {
    divisionCodes: [place.divisionCode],
    hallCodes: place.hallCode ? [place.hallCode] : [],
    departmentIds: place.departmentId ? [place.departmentId] : [],
  };
}

/**
 * The staff caller's grants that allow reporting, in force at `now` (the first places the report).
 * @throws 401; 403 `feedback.reporter_only` for residents and staff without `feedback.report`.
 */
export function requireReporter(principal: Principal | null, now: Date): { p: Principal; grants: Grant[] } {
  const p = requirePrincipal(principal);
  const grants =
    p.kind === 'staff'
      ? p.grants.filter((g) => grantInForce(g, now) && roleAllows(g.role, 'feedback.report'))
      : [];
  if (grants.length === 0)
    throw forbidden(
      'feedback.reporter_only',
      'Only workbench staff report problems here (a grant with feedback.report: window, acceptance, approval, agent, administrator or duty roles).',
    );
  return { p, grants };
}

/** Whether `p` may triage (and close) the report: `feedback.triage` in force over its place. */
export function mayTriage(p: Principal, place: FeedbackPlace, now: Date): boolean {
  return p.kind === 'staff' && anyGrantAllows(p.grants, 'feedback.triage', feedbackTarget(place), now);
}

/** Whether `p` may read and comment on the report (see the module rule above). */
export function mayRead(p: Principal, r: FeedbackParties, now: Date): boolean {
  if (p.kind !== 'staff') return false;
  if (r.reporterAccountId === p.accountId) return true;
  if (r.ownerKind === 'staff' && r.ownerId === p.accountId) return true;
  if (r.ownerKind === 'department' && r.ownerId && r.ownerId === p.departmentId) return true;
  return mayTriage(p, r, now);
}

/** The 404 of a report the caller may not read (or that does not exist: the same answer). */
export function feedbackHidden(id: string): never {
  throw notFound('feedback.not_found', `No feedback report ${id} among those you may see.`, 'id');
}

/**
 * The places the caller triages: every grant in force with `feedback.triage`.
 * @throws 401; 403 `feedback.triager_only` without one.
 */
export function triagePlaces(principal: Principal | null, now: Date): FeedbackPlaces {
  const p = requirePrincipal(principal);
  const places: FeedbackPlaces = { divisionPrefixes: [], hallCodes: [], departmentIds: [] };
  if (p.kind === 'staff')
    for (const g of p.grants) {
      if (!grantInForce(g, now) || !roleAllows(g.role, 'feedback.triage')) continue;
      if (g.scope.kind === 'division') places.divisionPrefixes.push(g.scope.code);
      else if (g.scope.kind === 'hall') places.hallCodes.push(g.scope.code);
      else places.departmentIds.push(g.scope.id);
    }
  if (places.divisionPrefixes.length + places.hallCodes.length + places.departmentIds.length === 0)
    throw forbidden(
      'feedback.triager_only',
      'The triage queue is for administrators (feedback.triage); your own reports are at GET /api/v1/feedback/mine.',
    );
  return places;
}

/**
 * The caller may triage this report. Callers who may read it but not triage it (the reporter, the owner)
 * get 403 `feedback.triage_forbidden`; others 404. @throws AppError(not_found | forbidden).
 */
export function requireTriage(p: Principal, r: FeedbackParties & { id: string }, now: Date): void {
  if (mayTriage(p, r, now)) return;
  if (!mayRead(p, r, now)) feedbackHidden(r.id);
  throw forbidden(
    'feedback.triage_forbidden',
    'Only an administrator whose scope covers the report’s hall, department or division triages and closes it; comment instead.',
  );
}

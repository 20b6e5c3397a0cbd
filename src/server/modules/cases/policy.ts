import type { CaseActor, CaseCommand } from '../../../domain/case-state.ts';
import { AppError, notFound } from '../../../domain/errors.ts';
import { type Action, anyGrantAllows, type ScopeTarget } from '../../../domain/roles.ts';
import { forbidden } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';

/**
 * Who may do what on cases (办件), by roles × jurisdiction (src/domain/roles.ts; 等保 2.0 8.1.4.2 访问控制).
 * Two layers: these policies decide whether the caller's ROLE and SCOPE allow the action; the case engine
 * (CasesService.authorize) then checks COMPETENCE — the competent department accepts and decides, the
 * intake hall receives and forwards, 无差别办理 needs a delegation in force (行政许可法 arts. 22–26).
 *
 * The 404-versus-403 rule:
 * - a case the caller may not SEE answers 404 `case.not_found` to every request about it — reads and
 *   actions alike — exactly as if it did not exist (its existence is personal data of the applicant);
 * - on a case the caller sees, an action their roles do not include is 403 `case.role_missing`, and one
 *   the engine refuses (not competent, wrong hall) 403 `case.not_competent`;
 * - lists owned by a public place (a department's inbox, a hall's intake list or delegations) answer 403
 *   `case.scope_missing` when the caller's scope does not cover the place (the place is public; its cases
 *   are not shown).
 */

/**
 * Where a case lies, for {@link scopeCovers}: the intake county (first 6 digits of the case number) and
 * the deciding division; the intake hall and the pickup hall; the competent department, every department
 * that was competent before a reassignment (改派 events) and the departments of 多地联办 parts; the item.
 */
export function caseTarget(c: {
  number: string;
  decidingDivisionCode: string;
  intakeHallCode: string | null;
  competentDepartmentId: string | null;
  pickupHallCode?: string | null;
  pastDepartmentIds?: readonly string[];
  partDepartmentIds?: readonly string[];
  itemCode: string;
}): ScopeTarget {
  const departments = new Set<string>([...(c.pastDepartmentIds ?? []), ...(c.partDepartmentIds ?? [])]);
  if (c.competentDepartmentId) departments.add(c.competentDepartmentId);
  return {
    divisionCodes: [c.number.slice(0, 6), c.decidingDivisionCode],
    hallCodes: [c.intakeHallCode, c.pickupHallCode].filter((h): h is string => !!h),
    departmentIds: [...departments],
    itemCode: c.itemCode,
  };
}

/**
 * Whether the caller sees the case: staff whose grants give `case.read` over it — their hall received it
 * (or it is to be picked up there), their department is, was or shares competence for it, or their
 * division scope covers its intake or deciding division (supervision). Residents and agents: no (they
 * follow their cases through notifications; applicant look-up by the signed-in resident is still to come).
 */
export function mayReadCase(p: Principal, target: ScopeTarget, now: Date): boolean {
  return p.kind === 'staff' && anyGrantAllows(p.grants, 'case.read', target, now);
}

/** The role action a case command needs (staff); residents and agents: passed to the engine, which decides. */
export function commandAction(type: CaseCommand['type'], actor: CaseActor): Action | null {
  if (actor.kind !== 'staff') return 'case.read';
  switch (type) {
    case 'receive':
      return 'case.receive';
    case 'forward':
      return 'case.forward';
    case 'reassign':
      return 'case.reassign';
    case 'deliver':
      return 'case.deliver';
    case 'decide':
    case 'extend':
      return 'case.decide';
    case 'rate':
      return null;
    case 'withdraw':
    case 'resubmit':
      return 'case.read';
    default:
      // request_supplement, accept, not_accept, start_review, review_step, special procedures
      return 'case.accept';
  }
}

/**
 * The caller may `action` on the case: 404 `case.not_found` when they do not see it (see the rule above),
 * 403 `case.role_missing` when they see it but none of their grants in force gives `action` over it (for
 * its item). `action` null = only see. Residents and agents: reads are 404; actions pass to the engine
 * (which allows only the applicant-side ones: rate, withdraw, resubmit, pickup-code reissue).
 * @throws AppError(not_found | forbidden).
 */
export function requireCaseAction(
  p: Principal,
  target: ScopeTarget,
  action: Action | null,
  now: Date,
  caseRef: string,
): void {
  if (p.kind !== 'staff') {
    // applicant-side actions (rate, withdraw, resubmit, pickup-code reissue) are for the engine to judge
    if (action !== null) return;
    throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
  }
  if (!mayReadCase(p, target, now)) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
  if (action !== null && !anyGrantAllows(p.grants, action, target, now))
    throw new AppError(
      'forbidden',
      'case.role_missing',
      `None of your roles in force may ${action} case ${caseRef} (item ${target.itemCode}); ask an administrator for a grant.`,
    );
}

/**
 * The caller's scope covers a place for `action` (a department's inbox, a hall's intake list and
 * delegations, granting a delegation). @throws 403 `case.scope_missing`.
 */
export function requireScopeOver(p: Principal, action: Action, target: ScopeTarget, now: Date): void {
  if (!anyGrantAllows(p.grants, action, target, now))
    throw forbidden('case.scope_missing', `Your grants do not give ${action} over this place.`);
}

/**
 * Who may read an applicant's full identifiers (个人信息保护法 arts. 28, 51: sensitive personal
 * information only for a specific purpose, by those who need it): on top of the role `case.reveal_pii`
 * (checked by the route), staff of the case's competent department or of its intake hall.
 * @returns true when allowed.
 */
export function mayRevealApplicant(
  actor: CaseActor,
  c: { competentDepartmentId: string | null; intakeHallCode: string | null },
): boolean {
  if (actor.kind !== 'staff') return false;
  if (actor.departmentId && actor.departmentId === c.competentDepartmentId) return true;
  return !!actor.hallCode && actor.hallCode === c.intakeHallCode;
}

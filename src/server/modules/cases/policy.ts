import type { CaseActor, CaseCommand } from '../../../domain/case-state.ts';
import { AppError, notFound } from '../../../domain/errors.ts';
import {
  type Action,
  anyGrantAllows,
  grantAllows,
  grantInForce,
  type Role,
  roleAllows,
  type ScopeTarget,
  scopeCovers,
} from '../../../domain/roles.ts';
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

/** Where a case lies plus whose it is on the applicant's side, for the policies. */
export interface CaseLocation extends ScopeTarget {
  /** The applicant-side account of the case (see cases.applicant_account_id); null: a walk-in. */
  applicantAccountId?: string | null;
}

/**
 * The applicant-side account a caller stands for: a resident their own account, an operator the legal
 * person they act for (the development header's `applicant:x` likewise stands for `x`). Staff: null.
 */
export function applicantAccountOf(p: Principal): string | null {
  if (p.kind === 'staff') return null;
  return p.kind === 'legal_person_operator' ? (p.legalPersonId ?? null) : p.accountId;
}

/**
 * Whether the caller sees the case:
 * - staff whose grants give `case.read` over it — their hall received it (or it is to be picked up
 *   there), their department is, was or shares competence for it, or their division scope covers its
 *   intake or deciding division (supervision);
 * - a resident (or a legal person's operator) when it is theirs: they filed it signed in, or an agent filed
 *   it for them under an agent authorization (`applicantAccountId`). Never another resident's case.
 */
export function mayReadCase(p: Principal, target: CaseLocation, now: Date): boolean {
  if (p.kind !== 'staff') {
    const mine = applicantAccountOf(p);
    return !!mine && !!target.applicantAccountId && target.applicantAccountId === mine;
  }
  return anyGrantAllows(p.grants, 'case.read', target, now);
}

/** Staff roles that act for residents (帮办员, 村级代办员): they need the resident's agent authorization. */
export const AGENT_ROLES: readonly Role[] = ['helper', 'village_agent'];

/** Applicant-side commands an agent may take for the resident (补正提交, 撤回, 评价). */
export const APPLICANT_COMMANDS: ReadonlySet<CaseCommand['type']> = new Set(['resubmit', 'withdraw', 'rate']);

/**
 * 帮办代办: whether a staff caller takes an applicant-side command (resubmit, withdraw, rate) AS AN AGENT —
 * then it needs the resident's agent authorization and is attributed to both people. True when the caller
 * holds an agent role (helper / village_agent) in force over the case's place, and — for resubmit and
 * withdraw — no processing role there (case.receive / case.accept: a window clerk taking supplements or a
 * withdrawal at the desk acts as staff). Staff never rate, so a rating by an agent-role holder is always
 * an agent's. The development header's `agent:x` is an agent.
 */
export function actsAsAgent(
  p: Principal,
  type: CaseCommand['type'],
  target: ScopeTarget,
  now: Date,
): boolean {
  if (!APPLICANT_COMMANDS.has(type)) return false;
  if (p.devActor) return p.devActor.kind === 'agent';
  if (p.kind !== 'staff') return false;
  const here = p.grants.filter((g) => grantInForce(g, now) && scopeCovers(g.scope, target));
  if (!here.some((g) => AGENT_ROLES.includes(g.role))) return false;
  if (type === 'rate') return true;
  return !here.some((g) => roleAllows(g.role, 'case.receive') || roleAllows(g.role, 'case.accept'));
}

/**
 * A staff member taking a resident's withdrawal or supplement AT THE DESK (not as an agent, see
 * {@link actsAsAgent}) must process the case there: a grant in force with `case.receive` (收件员 at the
 * intake window) or `case.accept` (受理员 of the competent department) over it, for its item. Oversight
 * roles (hall / county administrators, approvers: `case.read` only) never end or resume a resident's
 * application. Other commands pass. @throws 403 `case.role_missing`.
 */
export function requireDeskRole(
  p: Principal,
  type: CaseCommand['type'],
  target: ScopeTarget,
  now: Date,
  caseRef: string,
): void {
  if (p.kind !== 'staff' || (type !== 'withdraw' && type !== 'resubmit')) return;
  if (
    anyGrantAllows(p.grants, 'case.receive', target, now) ||
    anyGrantAllows(p.grants, 'case.accept', target, now)
  )
    return;
  throw new AppError(
    'forbidden',
    'case.role_missing',
    `Only the intake window (收件员) or the competent department's acceptance staff (受理员) take a ${type} of case ${caseRef} for the applicant; an agent needs the applicant's authorization.`,
  );
}

/**
 * Whether a staff caller may file WITHOUT an agent authorization: some grant in force of a non-agent role
 * (收件员 intake_clerk) gives `case.submit` over the hall for every item. Agents (帮办员, 村级代办员) file
 * for a resident only under the resident's authorization (`agent.authorizationRef`).
 */
export function filesAsStaff(
  p: Principal,
  hall: ScopeTarget,
  itemCodes: readonly string[],
  now: Date,
): boolean {
  return itemCodes.every((itemCode) =>
    p.grants.some(
      (g) => !AGENT_ROLES.includes(g.role) && grantAllows(g, 'case.submit', { ...hall, itemCode }, now),
    ),
  );
}

/**
 * An agent's OWN grant must cover the item (a grant may be limited to items): `case.submit` over the
 * place for every item filed or acted on. @throws 403 `case.agent_not_authorized` naming the item (field
 * `itemCode`).
 */
export function requireAgentGrantFor(
  p: Principal,
  target: ScopeTarget,
  itemCodes: readonly string[],
  now: Date,
): void {
  for (const itemCode of itemCodes) {
    const ok = p.grants.some(
      (g) => AGENT_ROLES.includes(g.role) && grantAllows(g, 'case.submit', { ...target, itemCode }, now),
    );
    if (!ok)
      throw new AppError(
        'forbidden',
        'case.agent_not_authorized',
        `Your agent grant in force here does not cover item ${itemCode}; ask an administrator to extend it.`,
        { field: 'itemCode' },
      );
  }
}

/**
 * The role action a case command needs (staff); residents and agents (`actor.kind` agent, or staff acting
 * as agents, see {@link actsAsAgent}) need only to see the case — the engine and the agent authorization
 * decide the rest.
 */
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
 * its item). `action` null = only see. Residents see only their own cases (any other is 404, reads and
 * actions alike); on their own, actions pass to the engine (which allows only the applicant-side ones:
 * rate, withdraw, resubmit, pickup-code reissue).
 * @throws AppError(not_found | forbidden).
 */
export function requireCaseAction(
  p: Principal,
  target: CaseLocation,
  action: Action | null,
  now: Date,
  caseRef: string,
): void {
  if (!mayReadCase(p, target, now)) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
  if (p.kind !== 'staff') return;
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

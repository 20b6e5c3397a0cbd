/**
 * Roles × jurisdiction (角色 × 管辖范围): what each staff role may do, the scopes a role is granted over,
 * and the pure rules that decide whether a grant allows an action on a target and whether an
 * administrator may hand out a grant (授权不超出本人权限).
 *
 * Follows 等保 2.0 (GB/T 22239-2019) 8.1.4.2 访问控制: access is granted per subject and object, least
 * privilege, and administrators cannot give more than they hold; 行政许可法 arts. 22–26 for competence
 * (who decides stays with the competent department; this table only says who may press the button).
 *
 * Pure: no I/O; runs in Node and in the browser.
 */
import { isAncestorOrSelf } from './division-code.ts';

/** Every action a policy checks. Dotted, stable: they appear in audit entries and in the matrix test. */
export const ACTIONS = [
  'case.read',
  'case.submit',
  'case.receive',
  'case.forward',
  'case.accept',
  'case.decide',
  'case.deliver',
  'case.reassign',
  'case.custody',
  'case.reveal_pii',
  'delegation.manage',
  'grant.manage',
  'catalog.import',
  'implementation.manage',
  'hall.manage',
  'audit.read',
  'dashboard.read',
  'incident.manage',
  // 好差评: handle a bad review's rectification (整改, call-back, outcome); appeal a review (申诉); decide
  // an appeal (复核) — never one's own (the evaluations service checks)
  'evaluation.rectify',
  'evaluation.appeal',
  'evaluation.review',
  // staff feedback channel: report a problem (every staff role); triage and close reports (admins)
  'feedback.report',
  'feedback.triage',
  // warnings: acknowledge and resolve alerts in one's scope (alerts are read with dashboard.read)
  'alert.manage',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Staff roles. Identifiers in English; the Chinese terms are in docs/glossary.md. */
export const ROLES = [
  'intake_clerk',
  'acceptance_officer',
  'approver',
  'helper',
  'village_agent',
  'hall_admin',
  'county_admin',
  'prefecture_admin',
  'province_admin',
  'duty_officer',
  'leader',
  'auditor',
] as const;
export type Role = (typeof ROLES)[number];

/** 中文 name of each role, for screens and messages. */
export const ROLE_NAMES: Readonly<Record<Role, string>> = {
  intake_clerk: '收件员',
  acceptance_officer: '受理员',
  approver: '审批员',
  helper: '帮办员',
  village_agent: '村级代办员',
  hall_admin: '大厅管理员',
  county_admin: '县级管理员',
  prefecture_admin: '市（州）级管理员',
  province_admin: '省级管理员',
  duty_officer: '应急值守员',
  leader: '领导（只读看板）',
  auditor: '审计员',
};

const ADMIN: readonly Action[] = [
  'case.read',
  'grant.manage',
  'hall.manage',
  'delegation.manage',
  'dashboard.read',
  'evaluation.rectify',
  'evaluation.appeal',
  'feedback.report',
  'feedback.triage',
  'alert.manage',
];

/**
 * Role → permitted actions. Administrators manage people and places, they do not process cases
 * (三员分立 in spirit: the auditor only reads the log, admins cannot accept or decide).
 */
export const ROLE_ACTIONS: Readonly<Record<Role, readonly Action[]>> = {
  intake_clerk: [
    'case.read',
    'case.submit',
    'case.receive',
    'case.forward',
    'case.reassign',
    'case.deliver',
    'case.custody',
    'case.reveal_pii',
    'evaluation.appeal',
    'feedback.report',
  ],
  acceptance_officer: [
    'case.read',
    'case.accept',
    'case.reassign',
    'case.custody',
    'case.reveal_pii',
    'evaluation.rectify',
    'evaluation.appeal',
    'feedback.report',
  ],
  approver: [
    'case.read',
    'case.decide',
    'case.deliver',
    'evaluation.rectify',
    'evaluation.appeal',
    'feedback.report',
  ],
  helper: ['case.read', 'case.submit', 'feedback.report'],
  village_agent: ['case.read', 'case.submit', 'feedback.report'],
  hall_admin: ADMIN,
  // 实施清单: counties and up set the local variances of their division's implementations; 复核 of
  // appeals sits above the hall (a county or higher administrator decides)
  county_admin: [...ADMIN, 'implementation.manage', 'evaluation.review'],
  // catalog.import is the province's: the catalog is the provincial standard (基本目录; catalog/policy.ts)
  prefecture_admin: [...ADMIN, 'implementation.manage', 'evaluation.review'],
  province_admin: [...ADMIN, 'implementation.manage', 'catalog.import', 'evaluation.review'],
  duty_officer: ['dashboard.read', 'incident.manage', 'alert.manage', 'feedback.report'],
  leader: ['dashboard.read'],
  auditor: ['audit.read'],
};

const OPERATIONAL: readonly Role[] = [
  'intake_clerk',
  'acceptance_officer',
  'approver',
  'helper',
  'village_agent',
];

/**
 * Which roles each role may hand out directly (the rest follows transitively, see {@link roleAtMost}).
 * Only the province admin appoints auditors (审计员 outside the admin line).
 */
export const GRANTABLE_ROLES: Readonly<Record<Role, readonly Role[]>> = {
  intake_clerk: [],
  acceptance_officer: [],
  approver: [],
  helper: [],
  village_agent: [],
  duty_officer: [],
  leader: [],
  auditor: [],
  hall_admin: OPERATIONAL,
  county_admin: ['hall_admin', 'duty_officer', 'leader'],
  prefecture_admin: ['county_admin'],
  province_admin: ['prefecture_admin', 'auditor'],
};

/** Whether `role` is `than` or below it in the granting order (reflexive, transitive). */
export function roleAtMost(role: Role, than: Role): boolean {
  if (role === than) return true;
  return GRANTABLE_ROLES[than].some((r) => roleAtMost(role, r));
}

/** Whether a role's table row includes `action`. */
export function roleAllows(role: Role, action: Action): boolean {
  return ROLE_ACTIONS[role].includes(action);
}

/**
 * A jurisdiction. `division` covers a GB/T 2260 subtree by code prefix (`52` the province, `5226` 黔东南,
 * `522601` 凯里); `hall` one hall (its division is carried so a hall scope can be placed inside a
 * division scope); `department` one department (likewise with its division).
 */
export type Scope =
  | { kind: 'division'; code: string }
  | { kind: 'hall'; code: string; divisionCode: string }
  | { kind: 'department'; id: string; divisionCode: string };
export const SCOPE_KINDS = ['division', 'hall', 'department'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/**
 * What an action is about: the divisions (intake and deciding division of a case, or a hall's or
 * department's own), the halls (intake hall) and the departments (competent, previously competent, the
 * departments of 多地联办 parts). An empty target is covered by nothing.
 */
export interface ScopeTarget {
  divisionCodes?: readonly string[];
  hallCodes?: readonly string[];
  departmentIds?: readonly string[];
  /** The service item (12-digit basic code), when the action concerns one. */
  itemCode?: string;
}

/** A grant as the policies see it (times as Date; `itemCodes` null = every item). */
export interface Grant {
  id?: string;
  role: Role;
  scope: Scope;
  itemCodes: readonly string[] | null;
  validFrom: Date;
  validUntil: Date;
  revokedAt?: Date | null;
}

/** Whether `scope` covers `target`: a division scope covers any target division inside its subtree. */
export function scopeCovers(scope: Scope, target: ScopeTarget): boolean {
  switch (scope.kind) {
    case 'division':
      return (target.divisionCodes ?? []).some((d) => isAncestorOrSelf(scope.code, d));
    case 'hall':
      return (target.hallCodes ?? []).includes(scope.code);
    case 'department':
      return (target.departmentIds ?? []).includes(scope.id);
  }
}

/** Whether `inner` lies inside `outer` (every target `inner` covers, `outer` covers too). */
export function scopeWithin(inner: Scope, outer: Scope): boolean {
  switch (outer.kind) {
    case 'division':
      return isAncestorOrSelf(outer.code, inner.kind === 'division' ? inner.code : inner.divisionCode);
    case 'hall':
      return inner.kind === 'hall' && inner.code === outer.code;
    case 'department':
      return inner.kind === 'department' && inner.id === outer.id;
  }
}

/** Whether a grant is in force at `now` (valid from ≤ now < valid until, not revoked). */
export function grantInForce(grant: Grant, now: Date): boolean {
  return !grant.revokedAt && grant.validFrom <= now && now < grant.validUntil;
}

/**
 * Whether `grant` allows `action` on `target` at `now`: in force, its role's row has the action, its
 * scope covers the target, and — when the target names an item and the grant is limited to items —
 * the item is one of them.
 */
export function grantAllows(grant: Grant, action: Action, target: ScopeTarget, now: Date): boolean {
  if (!grantInForce(grant, now) || !roleAllows(grant.role, action)) return false;
  if (!scopeCovers(grant.scope, target)) return false;
  if (grant.itemCodes !== null && target.itemCode !== undefined && !grant.itemCodes.includes(target.itemCode))
    return false;
  return true;
}

/** Whether any of `grants` allows `action` on `target` at `now`. */
export function anyGrantAllows(
  grants: readonly Grant[],
  action: Action,
  target: ScopeTarget,
  now: Date,
): boolean {
  return grants.some((g) => grantAllows(g, action, target, now));
}

/** Why {@link canGrant} refused, or null when allowed. Field names match the grant request body. */
export type GrantRefusal = { field: 'role' | 'scope' | 'itemCodes' | 'validUntil'; reason: string } | null;

/**
 * Whether an administrator holding `adminGrants` may hand out `newGrant` at `now` ("an admin can never
 * grant more than they hold"): some ONE grant of theirs in force with `grant.manage` must dominate it —
 * its role ≥ the new role ({@link roleAtMost}), the new scope inside its scope, the new items ⊆ its items
 * (null = all: only an all-items grant may give all items), and the new validity inside its validity. Returns the refusal of the closest candidate (most specific field) or
 * null when allowed.
 */
export function canGrant(adminGrants: readonly Grant[], newGrant: Grant, now: Date): GrantRefusal {
  const managing = adminGrants.filter((g) => grantInForce(g, now) && roleAllows(g.role, 'grant.manage'));
  if (managing.length === 0)
    return { field: 'role', reason: 'you hold no administrator grant (grant.manage) in force' };
  let refusal: GrantRefusal = null;
  const rank = { role: 0, scope: 1, itemCodes: 2, validUntil: 3 } as const;
  for (const g of managing) {
    const r = dominates(g, newGrant);
    if (r === null) return null;
    if (refusal === null || rank[r.field] > rank[refusal.field]) refusal = r;
  }
  return refusal;
}

function dominates(admin: Grant, g: Grant): GrantRefusal {
  if (!roleAtMost(g.role, admin.role))
    return { field: 'role', reason: `a ${admin.role} may not grant ${g.role}` };
  if (!scopeWithin(g.scope, admin.scope)) return { field: 'scope', reason: 'the scope lies outside yours' };
  if (
    admin.itemCodes !== null &&
    (g.itemCodes === null || g.itemCodes.some((c) => !admin.itemCodes!.includes(c)))
  )
    return { field: 'itemCodes', reason: 'the items are not all among yours' };
  if (g.validFrom < admin.validFrom)
    return { field: 'validUntil', reason: 'the grant would start before yours' };
  if (g.validUntil > admin.validUntil || g.validFrom >= g.validUntil)
    return { field: 'validUntil', reason: 'the grant must end after it starts and no later than yours' };
  return null;
}

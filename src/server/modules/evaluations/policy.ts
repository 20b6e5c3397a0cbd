import { AppError } from '../../../domain/errors.ts';
import {
  type Action,
  anyGrantAllows,
  grantInForce,
  roleAllows,
  type ScopeTarget,
  scopeCovers,
} from '../../../domain/roles.ts';
import { requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';
import type { PlaceFilter } from './repository.ts';

/**
 * Who may do what with ratings (好差评), rectifications (整改) and appeals (申诉/复核) — 等保 2.0 8.1.4.2
 * 访问控制, roles × jurisdiction from src/domain/roles.ts:
 * - `evaluation.rectify` over the responsible department (or the hall, for hall complaints, or the county):
 *   record the call-back and the outcome;
 * - `evaluation.appeal` over the case's place (intake hall, competent department, counties): appeal;
 * - `evaluation.review` over the case's counties: decide an appeal — never one's own.
 */

/** The account a resident or a legal person's operator rates as (the case's applicant-side account). */
export function raterAccountOf(p: Principal): string | null {
  if (p.kind === 'staff') return null;
  return p.kind === 'legal_person_operator' ? (p.legalPersonId ?? null) : p.accountId;
}

/**
 * The 404 rule: a staff member none of whose grants in force covers `target` (whatever the role) learns
 * nothing about it (`seenTarget`, default `target`) — they get `hidden()`, the same answer as for an unknown id. Callers who see it (some
 * grant covers the place) but hold no grant allowing `action` there get 403 `code`; residents get 403 too
 * (the route is not theirs, whatever the id).
 * @throws `hidden()` (404) | 403 `code` unless some grant in force allows `action` on `target`.
 */
export function requireEvaluationAction(
  principal: Principal | null,
  action: Action,
  target: ScopeTarget,
  now: Date,
  code: string,
  message: string,
  hidden: () => AppError,
  seenTarget: ScopeTarget = target,
): Principal {
  const p = requirePrincipal(principal);
  if (p.kind === 'staff' && anyGrantAllows(p.grants, action, target, now)) return p;
  if (p.kind === 'staff' && !p.grants.some((g) => grantInForce(g, now) && scopeCovers(g.scope, seenTarget)))
    throw hidden();
  throw new AppError('forbidden', code, message);
}

/**
 * The places covered by the caller's grants in force holding one of `actions`, as list filters: department
 * scopes → department ids, hall scopes → hall codes, division scopes → code prefixes (a division covers
 * its subtree). Empty for residents.
 */
export function placesOf(p: Principal, actions: readonly Action[], now: Date): PlaceFilter {
  const filter: PlaceFilter = { departmentIds: [], hallCodes: [], divisionPrefixes: [] };
  if (p.kind !== 'staff') return filter;
  for (const g of p.grants) {
    if (!grantInForce(g, now) || !actions.some((a) => roleAllows(g.role, a))) continue;
    if (g.scope.kind === 'department') filter.departmentIds.push(g.scope.id);
    else if (g.scope.kind === 'hall') filter.hallCodes.push(g.scope.code);
    else filter.divisionPrefixes.push(g.scope.code);
  }
  return filter;
}

import { isAppError } from '../../../domain/errors.ts';
import { anyGrantAllows, type ScopeTarget } from '../../../domain/roles.ts';
import { mayReadCase } from '../cases/policy.ts';
import { forbidden, requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';
import { parseRecipient } from './service.ts';

/** Where the inbox policy looks cases and departments up (the cases module's CasesService). */
export interface InboxPlaces {
  /** A case as a policy target (by id or number). @throws 404 `case.not_found`. */
  targetOf(caseRef: string): Promise<ScopeTarget>;
  /** A department as a policy target. @throws 404 `department.not_found`. */
  departmentTarget(id: string): Promise<ScopeTarget>;
  now(): Date;
}

/**
 * Whose inbox (站内消息) the caller may read and mark read — a principal reads ONLY its own (个人信息保护法
 * art. 10; 等保 2.0 8.1.4.2 访问控制). Messages carry case progress and pickup codes.
 * - `applicant:<id>` — the resident signed in as account `<id>`, or the operator of legal person `<id>`;
 * - `staff:<id>` — the staff member signed in as `<id>`;
 * - `department:<id>` — staff holding a grant in force that reads cases (`case.read`) over that
 *   department (the department itself, or a division subtree it lies in) — not an auditor or a leader;
 * - `applicant:case:<caseId>` — the inbox of an applicant without an account: DEVELOPMENT ONLY, through
 *   the X-Tongban-Actor header, for a caller who may read that case (never anonymous callers; in
 *   production applicants without an account are reached by SMS or email only).
 * 401 without a principal; 403 `notification.recipient_forbidden` otherwise (also for an unknown case:
 * the answer does not tell whether it exists). 400 `notification.bad_recipient` for a malformed one.
 * @returns the recipient string, checked.
 */
export async function requireInboxAccess(
  principal: Principal | null,
  recipient: string,
  places: InboxPlaces,
): Promise<string> {
  const p = requirePrincipal(principal);
  const r = parseRecipient(recipient);
  const refuse = () =>
    forbidden(
      'notification.recipient_forbidden',
      `You may read only your own inbox (applicant:<your account id>, staff:<your account id>, or department:<id> of a department your grants cover), not ${r.kind}:….`,
    );
  const now = places.now();
  if (r.kind === 'applicant' && r.id.startsWith('case:')) {
    if (p.via !== 'dev_header') throw refuse();
    const target = await places.targetOf(r.id.slice(5)).catch((e) => {
      throw isNotFound(e) ? refuse() : e;
    });
    if (!mayReadCase(p, target, now)) throw refuse();
    return recipient;
  }
  if (r.kind === 'applicant') {
    if (p.kind !== 'staff' && (r.id === p.accountId || (p.legalPersonId && r.id === p.legalPersonId)))
      return recipient;
    throw refuse();
  }
  if (r.kind === 'staff') {
    if (p.kind === 'staff' && r.id === p.accountId) return recipient;
    throw refuse();
  }
  // department
  if (p.kind !== 'staff') throw refuse();
  const target = await places.departmentTarget(r.id).catch((e) => {
    throw isNotFound(e) ? refuse() : e;
  });
  if (anyGrantAllows(p.grants, 'case.read', target, now)) return recipient;
  throw refuse();
}

/**
 * Push subscriptions are registered for the caller's own account only. @throws 401; 403
 * `notification.recipient_forbidden` (naming `accountId`).
 */
export function requireOwnAccount(principal: Principal | null, accountId: string): void {
  const p = requirePrincipal(principal);
  if (p.accountId !== accountId)
    throw forbidden(
      'notification.recipient_forbidden',
      'accountId: you may register push subscriptions for your own account only.',
    );
}

function isNotFound(e: unknown): boolean {
  return isAppError(e) && e.kind === 'not_found';
}

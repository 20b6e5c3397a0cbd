import { AppError, invalid } from '../../../domain/errors.ts';
import type { Principal } from './principal.ts';

/** 401: nobody is signed in (or the session/token ended). */
export function unauthenticated(
  message = 'Sign in first (session cookie or Authorization: Bearer token).',
): AppError {
  return new AppError('unauthenticated', 'auth.required', message);
}

/** 403 with a stable code. */
export function forbidden(code: string, message: string): AppError {
  return new AppError('forbidden', code, message);
}

/**
 * The caller, or 401. A restricted session (an administrator who must still enrol TOTP) is refused with
 * 403 `auth.totp_enrolment_required` unless `allowRestricted`.
 */
export function requirePrincipal(
  p: Principal | null,
  options: { allowRestricted?: boolean } = {},
): Principal {
  if (!p) throw unauthenticated();
  if (p.restricted && !options.allowRestricted) {
    throw forbidden(
      'auth.totp_enrolment_required',
      'Administrators must enrol a TOTP authenticator first: POST /api/v1/auth/totp/enrol, then /confirm.',
    );
  }
  return p;
}

/**
 * The closed list of API token scopes (`area:action`). A token carries some of them and may call only
 * the routes whose policy names one of its scopes (src/server/http/route-policies.ts); the roles ×
 * jurisdiction of the staff member who created it still apply on top (a scope never adds a permission
 * the account lacks — 等保 2.0 8.1.4.2 least privilege).
 * - `cases:read` — cases, timelines, inboxes, intake lists, delegations, materials and scans;
 * - `cases:write` — submit, commands, pickup, pickup-code reissue, part decisions;
 * - `custody:write` — custody events of originals and scan uploads (e.g. a courier integration);
 * - `pii:reveal` — full applicant identifiers for a stated purpose (audited);
 * - `delegations:write` — grant and revoke 无差别办理 delegations;
 * - `notifications:read` / `notifications:write` — the inbox; marking read, push subscriptions;
 * - `audit:read` — the audit log;
 * - `grants:read` / `grants:write` — an account's grants; granting and revoking (授权);
 * - `agent_authorizations:read` / `agent_authorizations:write` — 帮办代办 authorizations: listing one's
 *   own; recording, consenting, revoking;
 * - `staff:read` / `staff:write` — staff accounts of an administrator's scope: listing; creating,
 *   disabling, enabling, resetting the initial password;
 * - `halls:write` — a hall's windows, opening hours and status;
 * - `catalog:read` / `catalog:write` — the implementation lists of a division and the catalog export;
 *   local variances and the catalog import.
 */
export const API_SCOPES = [
  'cases:read',
  'cases:write',
  'custody:write',
  'pii:reveal',
  'delegations:write',
  'notifications:read',
  'notifications:write',
  'audit:read',
  'grants:read',
  'grants:write',
  'agent_authorizations:read',
  'agent_authorizations:write',
  'staff:read',
  'staff:write',
  'halls:write',
  'catalog:read',
  'catalog:write',
  'alerts:read',
  'alerts:write',
  'feedback:read',
  'feedback:write',
  'dashboard:read',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Whether `s` is one of {@link API_SCOPES}. */
export function isApiScope(s: string): s is ApiScope {
  return (API_SCOPES as readonly string[]).includes(s);
}

/**
 * The policy of public reference data (divisions, departments, halls, the working-day calendar, the
 * service catalog and its search): anyone may read it, signed in or not, with or without a token scope
 * — 政务公开 (政府信息公开条例 art. 20: service items, their guides and places are published). Says so
 * explicitly so every route has a policy; it never throws.
 */
export function publicReference(): void {}

/**
 * API tokens may only do what their scopes name (`scope`, one of {@link API_SCOPES}); sessions and the
 * development header are not limited by scopes. @throws 403 `auth.scope_missing`.
 */
export function requireScope(p: Principal, scope: ApiScope): void {
  if (p.via === 'api_token' && !(p.scopes ?? []).includes(scope)) {
    throw forbidden(
      'auth.scope_missing',
      `This API token lacks the scope "${scope}". Create a token with it.`,
    );
  }
}

/** Only staff signed in with a session (not a token, not the dev header) manage API tokens. */
export function requireStaffSession(p: Principal): void {
  if (p.kind !== 'staff' || p.via !== 'session') {
    throw forbidden('auth.staff_only', 'Only staff signed in with a session may manage API tokens.');
  }
}

/**
 * An optional list of 12-digit basic item codes (GB/T 39046) limiting a grant or an authorization:
 * null = every item; otherwise at least one, each well formed.
 * @throws AppError(validation, `code`) naming `itemCodes` or `itemCodes.<i>`.
 */
export function checkItemCodes(items: readonly string[] | null, code: string): readonly string[] | null {
  if (items === null) return null;
  if (items.length === 0)
    throw invalid('itemCodes', 'List at least one item code, or send null for every item.', code);
  for (const [i, c] of items.entries())
    if (!/^\d{12}$/.test(c))
      throw invalid(`itemCodes.${i}`, `"${c}" is not a 12-digit basic item code.`, code);
  return items;
}

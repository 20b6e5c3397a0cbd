import { AppError } from '../../../domain/errors.ts';
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
 * API tokens may only do what their scopes name (`scope`, e.g. `cases:read`); sessions are not limited
 * by scopes. @throws 403 `auth.scope_missing`.
 */
export function requireScope(p: Principal, scope: string): void {
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

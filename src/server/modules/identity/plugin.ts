import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../../domain/errors.ts';
import { parseActorHeader } from '../../http/actor.ts';
import type { AuthConfig } from './config.ts';
import { forbidden } from './policy.ts';
import { type Principal, principalFromDevActor } from './principal.ts';
import type { IdentityService, SessionGrant } from './service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null (see src/server/modules/identity/plugin.ts). */
    principal: Principal | null;
    /** The raw session id from the cookie, when the request was authenticated by a session. */
    authSessionId: string | null;
  }
}

/** Name of the session cookie: `__Host-` prefixed (Secure, Path=/, no Domain) when the cookie is Secure. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-tongban_session' : 'tongban_session';
}

/** Cookie binding an OpenID Connect flow to the browser that started it. */
export function oidcFlowCookieName(secure: boolean): string {
  return secure ? '__Host-tongban_oidc' : 'tongban_oidc';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Installs `@fastify/cookie` and the `authenticate` hook on the ROOT instance (so it runs for every
 * route), which sets `request.principal`:
 * 1. `Authorization: Bearer tbk_…` — an API token (no CSRF check: not sent by browsers automatically);
 *    an unknown, expired or revoked token is 401 `auth.token_invalid`.
 * 2. the session cookie (httpOnly, SameSite=Lax, Secure per SESSION_COOKIE_SECURE) — a valid session;
 *    on unsafe methods (POST, PUT, PATCH, DELETE) the session's CSRF token must be in `X-CSRF-Token`
 *    (synchronizer token pattern: the server keeps its hash per session), else 403 `auth.csrf_failed`.
 *    An ended session's cookie is cleared and the request continues anonymously.
 * 3. `X-Tongban-Actor` — DEVELOPMENT ONLY (DEV_ACTOR_HEADER): the declared actor; when disabled, a
 *    request carrying the header is refused with 401 `auth.dev_actor_disabled`.
 * Every unsafe request not authenticated by a bearer token must also come from our own origin: an
 * `Origin` other than this site (or AUTH_ALLOWED_ORIGINS), or `Sec-Fetch-Site: cross-site|same-site`,
 * is 403 `auth.cross_origin` (OWASP CSRF prevention: defence in depth, and login CSRF).
 */
export async function installAuthentication(
  app: FastifyInstance,
  deps: { identity: IdentityService; config: AuthConfig },
): Promise<void> {
  const { identity, config } = deps;
  const cookieName = sessionCookieName(config.cookieSecure);
  await app.register(cookie);
  app.decorateRequest('principal', null);
  app.decorateRequest('authSessionId', null);
  app.addHook('onRequest', async (req, reply) => {
    const unsafe = !SAFE_METHODS.has(req.method);
    // With the development header off, a request carrying it is refused whatever else it carries: a
    // signed-in resident must not become "staff" by adding a header the routes still read.
    if (!config.devActorHeader && header(req, 'x-tongban-actor') !== undefined) {
      throw new AppError(
        'unauthenticated',
        'auth.dev_actor_disabled',
        'X-Tongban-Actor is a development stand-in and is disabled here; sign in instead (and send no X-Tongban-Actor).',
      );
    }
    const authorization = req.headers.authorization;
    if (typeof authorization === 'string' && /^bearer /i.test(authorization)) {
      const principal = await identity.resolveApiToken(authorization.slice(7).trim());
      if (!principal)
        throw new AppError(
          'unauthenticated',
          'auth.token_invalid',
          'The API token is unknown, expired or revoked. Ask for a new token.',
        );
      req.principal = principal;
      return;
    }
    if (unsafe) checkSameOrigin(req, config.allowedOrigins);
    const sessionId = req.cookies[cookieName];
    if (sessionId) {
      const resolved = await identity.resolveSession(sessionId);
      if (resolved) {
        if (unsafe && !identity.csrfMatches(resolved.session, header(req, 'x-csrf-token'))) {
          throw forbidden(
            'auth.csrf_failed',
            'Send the session’s CSRF token in the X-CSRF-Token header (from sign-in or GET /api/v1/auth/csrf-token).',
          );
        }
        req.principal = resolved.principal;
        req.authSessionId = sessionId;
        return;
      }
      clearSessionCookie(reply, config);
    }
    const actor = header(req, 'x-tongban-actor');
    if (actor !== undefined) {
      try {
        req.principal = principalFromDevActor(parseActorHeader(actor));
      } catch (e) {
        // a malformed header is reported by the routes that read it (case.actor_missing)
        if (!isAppError(e)) throw e;
      }
    }
  });
}

/** Sets the session cookie of a new or rotated session. */
export function setSessionCookie(reply: FastifyReply, config: AuthConfig, grant: SessionGrant): void {
  reply.setCookie(sessionCookieName(config.cookieSecure), grant.sessionId, {
    httpOnly: true,
    secure: config.cookieSecure,
    sameSite: 'lax',
    path: '/',
    expires: new Date(grant.expiresAt),
  });
}

export function clearSessionCookie(reply: FastifyReply, config: AuthConfig): void {
  reply.clearCookie(sessionCookieName(config.cookieSecure), {
    httpOnly: true,
    secure: config.cookieSecure,
    sameSite: 'lax',
    path: '/',
  });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function checkSameOrigin(req: FastifyRequest, allowed: string[]): void {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw forbidden(
      'auth.cross_origin',
      'Requests that change data must come from this site (Sec-Fetch-Site).',
    );
  }
  const origin = header(req, 'origin');
  if (origin === undefined) return;
  const own = `${req.protocol}://${req.host}`;
  if (origin !== own && !allowed.includes(origin)) {
    throw forbidden(
      'auth.cross_origin',
      `Requests that change data must come from this site, not ${origin.slice(0, 100)}.`,
    );
  }
}

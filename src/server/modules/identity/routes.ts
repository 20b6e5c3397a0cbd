import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../domain/errors.ts';
import { anyGrantAllows, ROLES, SCOPE_KINDS } from '../../../domain/roles.ts';
import { ErrorBodySchema, errorResponses } from '../../http/errors.ts';
import { fileTooLarge } from '../storage/service.ts';
import { SIGNED_FORM_CONTENT_TYPES } from './authorizations.ts';
import type { AuthConfig } from './config.ts';
import type { OidcLogin } from './oidc.ts';
import { clearSessionCookie, oidcFlowCookieName, setSessionCookie } from './plugin.ts';
import { requirePrincipal } from './policy.ts';
import type { IdentityService, SessionGrant } from './service.ts';

const errors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema, 409: ErrorBodySchema };

const PrincipalSchema = z
  .object({
    accountId: z.string(),
    kind: z.enum(['resident', 'legal_person_operator', 'staff']),
    via: z.enum(['session', 'api_token', 'dev_header']),
    name: z.string().optional(),
    departmentId: z.string().optional(),
    hallCode: z.string().optional(),
    legalPersonId: z.string().optional(),
    isAdmin: z.boolean(),
    mfa: z.boolean().describe('a second factor (TOTP) was passed in this session'),
    scopes: z.array(z.string()).optional(),
    tokenId: z.string().optional(),
    restricted: z.boolean().optional().describe('an administrator who must enrol TOTP before anything else'),
  })
  .meta({ id: 'Principal' });

const AccountSchema = z
  .object({
    id: z.string().uuid(),
    kind: z.enum(['resident', 'legal_person', 'staff']),
    name: z.string(),
    idNumber: z.string().nullable().describe('masked, e.g. 5201**********1234'),
    phone: z.string().nullable().describe('masked, e.g. 138****5678'),
    creditCode: z.string().nullable(),
    username: z.string().nullable(),
    departmentId: z.string().nullable(),
    hallCode: z.string().nullable(),
    isAdmin: z.boolean(),
    totpEnrolled: z.boolean(),
    createdAt: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'Account' });

const SessionSchema = z
  .object({
    csrfToken: z.string().describe('send it in X-CSRF-Token on every POST/PUT/PATCH/DELETE of this session'),
    expiresAt: z.string().describe('ISO 8601, absolute end of the session (SESSION_ABSOLUTE_HOURS)'),
    principal: PrincipalSchema,
  })
  .meta({ id: 'Session' });

const RegisteredResidentSchema = z
  .object({ ...AccountSchema.shape, ...SessionSchema.shape })
  .meta({ id: 'RegisteredResident', description: 'The new account, signed in: the Account and its Session' });

const TokenSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken' });

const AgentAuthorizationSchema = z
  .object({
    id: z.string().uuid(),
    agentAccountId: z.string(),
    agentName: z.string().nullable(),
    residentAccountId: z.string().uuid(),
    itemCodes: z.array(z.string()).nullable().describe('null: every item'),
    validFrom: z.string(),
    validUntil: z.string(),
    evidence: z.object({
      kind: z.enum(['signed_form', 'in_app', 'on_screen_signature']),
      fileKey: z.string().nullable(),
      sm3: z.string().nullable(),
      reference: z.string().nullable(),
    }),
    status: z.enum(['pending', 'active', 'revoked']),
    inForce: z.boolean().describe('active and within its validity now'),
    consentedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
    revokedReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AgentAuthorization' });

const GrantSchema = z
  .object({
    id: z.string().uuid(),
    accountId: z.string().uuid(),
    role: z.enum(ROLES),
    scope: z.object({
      kind: z.enum(SCOPE_KINDS),
      value: z.string().describe('division code prefix (GB/T 2260), hall code, or department id'),
      divisionCode: z.string().describe('the division the scope lies in'),
    }),
    itemCodes: z.array(z.string()).nullable().describe('null: every item'),
    validFrom: z.string(),
    validUntil: z.string().describe('ISO 8601; the grant ends by itself then'),
    grantedBy: z.string(),
    reason: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
    revokedReason: z.string().nullable(),
  })
  .meta({ id: 'Grant' });

const Phone = z.string().min(1).max(20).describe('11-digit mainland mobile number');
const SESSION_NOTE =
  'Sets the session cookie (httpOnly, SameSite=Lax, Secure unless SESSION_COOKIE_SECURE=false) with a NEW random id.';

/**
 * `/api/v1/auth/…`: registration, SMS codes, sign-in (SMS code, password, password + TOTP, the identity
 * platform over OpenID Connect), TOTP enrolment, acting for a legal person, CSRF token, sign-out, `me`,
 * and API tokens. Thin: validate, call {@link IdentityService} / {@link OidcLogin}, set cookies, present.
 */
export function identityRoutes(deps: {
  identity: IdentityService;
  oidc: OidcLogin | undefined;
  authConfig: AuthConfig;
  /** FILES_MAX_BYTES: the largest scan of a signed form accepted, bytes. */
  maxUploadBytes?: number;
}): FastifyPluginAsyncZod {
  const { identity, authConfig } = deps;
  const present = (reply: FastifyReply, grant: SessionGrant) => {
    setSessionCookie(reply, authConfig, grant);
    return { csrfToken: grant.csrfToken, expiresAt: grant.expiresAt, principal: grant.principal };
  };
  /** A new session replaces whatever session this browser had (no fixation, no leftovers). */
  const replacing = async (sessionId: string | null) => {
    if (sessionId) await identity.logout(sessionId);
  };
  return async (app) => {
    app.post(
      '/api/v1/auth/residents',
      {
        schema: {
          tags: ['auth'],
          summary: 'Register a resident account (实名: name, resident ID number, mobile phone)',
          description: `The phone is proved by an SMS code (request it with purpose \`register\`), and that code signs the new resident in: the answer is the account plus its session (csrfToken, expiresAt, principal — as POST /api/v1/auth/login/sms). ${SESSION_NOTE} The ID number is validated (GB 11643) and, like the phone, stored only encrypted plus a keyed SM3 index; responses show both masked. The password is optional (SMS sign-in works without). An account later signed in through the province identity platform (verified ID number) is taken over by that identity.`,
          body: z.object({
            name: z.string().min(1).max(100),
            idNumber: z.string().min(1).max(40),
            phone: Phone,
            password: z.string().max(200).optional(),
            code: z
              .string()
              .min(1)
              .max(10)
              .describe('the SMS code sent to `phone` by POST /api/v1/auth/sms-code {"purpose":"register"}'),
          }),
          response: { 201: RegisteredResidentSchema, ...errors },
        },
      },
      async (req, reply) => {
        const { account, session } = await identity.registerResidentWithCode(req.body, req.ip);
        await replacing(req.authSessionId);
        return reply.status(201).send({ ...account, ...present(reply, session) });
      },
    );

    app.post(
      '/api/v1/auth/legal-persons',
      {
        schema: {
          tags: ['auth'],
          summary:
            'Register a legal person (法人) with the signed-in resident as its authorised operator (经办人)',
          body: z.object({ name: z.string().min(1).max(100), creditCode: z.string().min(1).max(40) }),
          response: { 201: AccountSchema, ...errors },
        },
      },
      async (req, reply) => {
        const p = requirePrincipal(req.principal);
        if (p.kind !== 'resident' || p.via !== 'session')
          throw new AppError(
            'forbidden',
            'auth.resident_only',
            'Sign in as a resident to register a legal person.',
          );
        return reply
          .status(201)
          .send(await identity.registerLegalPerson({ ...req.body, operatorIds: [p.accountId] }));
      },
    );

    app.post(
      '/api/v1/auth/sms-code',
      {
        schema: {
          tags: ['auth'],
          summary: 'Send a 6-digit sign-in code by SMS (valid 5 minutes, single use)',
          description:
            'Answers the same for unregistered phones (no message is sent to them). 429 auth.otp_rate_limited past one per minute / five per hour per phone, or 20 per hour per IP.',
          body: z.object({
            phone: Phone,
            purpose: z
              .enum(['sign_in', 'register'])
              .default('sign_in')
              .describe(
                'sign_in: sent only to a registered phone; register: only to a phone without an account',
              ),
          }),
          response: {
            200: z.object({
              sentTo: z.string().describe('masked phone'),
              expiresInSeconds: z.number().int(),
            }),
            ...errors,
          },
        },
      },
      async (req) => identity.requestSmsCode(req.body.phone, req.ip, req.body.purpose),
    );

    app.post(
      '/api/v1/auth/login/sms',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign in with phone and SMS code',
          description: `${SESSION_NOTE} 401 auth.otp_invalid; 429 auth.locked after repeated failures (per phone and per IP, exponential backoff).`,
          body: z.object({ phone: Phone, code: z.string().min(1).max(10) }),
          response: { 200: SessionSchema, ...errors },
        },
      },
      async (req, reply) => {
        const grant = await identity.loginWithSmsCode(req.body, req.ip);
        await replacing(req.authSessionId);
        return present(reply, grant);
      },
    );

    app.post(
      '/api/v1/auth/login/password',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign in with password (residents: phone; staff: username, plus TOTP when enrolled)',
          description: `${SESSION_NOTE} Staff with an authenticator send \`totp\` (RFC 6238). An administrator without one gets a restricted session that may only enrol it. 401 auth.invalid_credentials / auth.totp_required / auth.totp_invalid; 429 auth.locked.`,
          body: z
            .object({
              phone: Phone.optional(),
              username: z.string().min(1).max(64).optional(),
              password: z.string().min(1).max(200),
              totp: z.string().min(1).max(10).optional(),
            })
            .refine((b) => (b.phone === undefined) !== (b.username === undefined), {
              message: 'send exactly one of phone (residents) or username (staff)',
              path: ['phone'],
            }),
          response: { 200: SessionSchema, ...errors },
        },
      },
      async (req, reply) => {
        const grant = await identity.loginWithPassword(req.body, req.ip);
        await replacing(req.authSessionId);
        return present(reply, grant);
      },
    );

    app.post(
      '/api/v1/auth/totp/enrol',
      {
        schema: {
          tags: ['auth'],
          summary: 'Start enrolling a TOTP authenticator (staff): returns the otpauth:// URI for a QR code',
          response: {
            200: z.object({
              otpauthUri: z.string().describe('otpauth://totp/… (RFC 6238: SHA-1, 6 digits, 30 s)'),
              secret: z.string().describe('base32, for typing in by hand'),
            }),
            ...errors,
          },
        },
      },
      async (req) => identity.enrolTotp(req.principal),
    );

    app.post(
      '/api/v1/auth/totp/confirm',
      {
        schema: {
          tags: ['auth'],
          summary:
            'Confirm the authenticator with a current code; the session is rotated and counts as two-factor',
          body: z.object({ code: z.string().min(1).max(10) }),
          response: { 200: SessionSchema, ...errors },
        },
      },
      async (req, reply) =>
        present(
          reply,
          await identity.confirmTotp(req.principal, req.authSessionId ?? undefined, req.body.code),
        ),
    );

    app.post(
      '/api/v1/auth/act-as',
      {
        schema: {
          tags: ['auth'],
          summary:
            'Act for a legal person you are an authorised operator of (null: for yourself); rotates the session',
          body: z.object({ legalPersonId: z.string().uuid().nullable() }),
          response: { 200: SessionSchema, ...errors },
        },
      },
      async (req, reply) =>
        present(
          reply,
          await identity.actAs(req.principal, req.authSessionId ?? undefined, req.body.legalPersonId),
        ),
    );

    app.get(
      '/api/v1/auth/csrf-token',
      {
        schema: {
          tags: ['auth'],
          summary: 'A new CSRF token for this session (the previous one stops working)',
          response: { 200: z.object({ csrfToken: z.string() }), ...errors },
        },
      },
      async (req) => {
        requirePrincipal(req.principal, { allowRestricted: true });
        if (!req.authSessionId)
          throw new AppError('unauthenticated', 'auth.required', 'Only cookie sessions have a CSRF token.');
        return { csrfToken: await identity.renewCsrfToken(req.authSessionId) };
      },
    );

    app.post(
      '/api/v1/auth/logout',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign out: ends the session and clears the cookie',
          response: { 204: z.null().describe('signed out'), ...errors },
        },
      },
      async (req, reply) => {
        if (req.authSessionId) await identity.logout(req.authSessionId);
        clearSessionCookie(reply, authConfig);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/v1/auth/me',
      {
        schema: {
          tags: ['auth'],
          summary: 'The signed-in caller: account (ID number and phone masked), principal, legal persons',
          response: {
            200: z.object({
              account: AccountSchema,
              principal: PrincipalSchema,
              legalPersons: z.array(
                z.object({ id: z.string(), name: z.string(), creditCode: z.string().nullable() }),
              ),
            }),
            ...errors,
          },
        },
      },
      async (req) => identity.me(req.principal),
    );

    app.get(
      '/api/v1/auth/oidc/start',
      {
        schema: {
          tags: ['auth'],
          summary: "Sign in through the province's unified identity platform (OpenID Connect, code + PKCE)",
          description:
            'Redirects (303) to the provider, with a short-lived flow cookie binding the callback to this browser. 404 auth.oidc_disabled when OIDC_ISSUER is unset.',
          querystring: z.object({ returnTo: z.string().max(500).optional().describe('a path on this site') }),
          response: { 303: z.null(), ...errors },
        },
      },
      async (req, reply) => {
        const oidc = requireOidc(deps.oidc);
        const { url, flowId } = await oidc.start(req.query.returnTo ?? '/');
        reply.setCookie(oidcFlowCookieName(authConfig.cookieSecure), flowId, {
          httpOnly: true,
          secure: authConfig.cookieSecure,
          sameSite: 'lax',
          path: '/',
          maxAge: 600,
        });
        return reply.redirect(url, 303);
      },
    );

    app.get(
      '/api/v1/auth/oidc/callback',
      {
        schema: {
          tags: ['auth'],
          summary: 'Redirect URI of the identity platform: finishes sign-in and redirects (303) to returnTo',
          description: `${SESSION_NOTE} 401 auth.oidc_failed; 403 auth.oidc_unverified without a verified ID number.`,
          querystring: z.record(z.string(), z.string()),
          response: { 303: z.null(), ...errors },
        },
      },
      async (req, reply) => {
        const oidc = requireOidc(deps.oidc);
        const flowCookie = oidcFlowCookieName(authConfig.cookieSecure);
        const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
        reply.clearCookie(flowCookie, {
          path: '/',
          httpOnly: true,
          secure: authConfig.cookieSecure,
          sameSite: 'lax',
        });
        const grant = await oidc.callback(req.cookies[flowCookie], query);
        await replacing(req.authSessionId);
        setSessionCookie(reply, authConfig, grant);
        return reply.redirect(grant.returnTo, 303);
      },
    );

    app.post(
      '/api/v1/auth/api-tokens',
      {
        schema: {
          tags: ['auth'],
          summary: 'Create an API token (staff): scoped, expiring; the token is shown only in this response',
          description: 'Send it as `Authorization: Bearer tbk_…` (no cookie, no CSRF token).',
          body: z.object({
            name: z.string().min(1).max(100),
            scopes: z
              .array(z.string().min(3).max(64))
              .min(1)
              .max(20)
              .describe('area:action, e.g. cases:read'),
            expiresInDays: z.number().int().min(1).max(365).default(90),
          }),
          response: { 201: TokenSchema.extend({ token: z.string().describe('shown once') }), ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(await identity.createApiToken(req.principal, req.body)),
    );

    app.get(
      '/api/v1/auth/api-tokens',
      {
        schema: {
          tags: ['auth'],
          summary: 'Your API tokens (never the secrets)',
          response: { 200: z.object({ items: z.array(TokenSchema) }), ...errors },
        },
      },
      async (req) => ({ items: await identity.listApiTokens(req.principal) }),
    );

    app.delete(
      '/api/v1/auth/api-tokens/:id',
      {
        schema: {
          tags: ['auth'],
          summary: 'Revoke an API token (effective on the next request)',
          params: z.object({ id: z.string().uuid() }),
          response: { 204: z.null(), ...errors },
        },
      },
      async (req, reply) => {
        await identity.revokeApiToken(req.principal, req.params.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/api/v1/grants',
      {
        schema: {
          tags: ['grants'],
          summary:
            'Grant a role over a scope (division subtree, hall or department), optionally for certain items, until a date',
          description:
            "Administrators only (grant.manage), to staff inside their own scope, never more than they hold: role ≤ theirs, scope ⊆ theirs, items ⊆ theirs, validity ⊆ theirs (403 `grant.exceeds_own` naming the field, nothing written; 403 `grant.not_admin`; 404 `account.not_found` for accounts outside their scope). Effective on the grantee's next request, no new sign-in; audited (`grant.create`). A 无差别办理 authority is a grant of acceptance_officer / approver over a hall for the listed items.",
          body: z.strictObject({
            accountId: z.string().uuid(),
            role: z.string().max(32).describe(ROLES.join(' | ')),
            scope: z.strictObject({ kind: z.enum(SCOPE_KINDS), value: z.string().min(1).max(64) }),
            itemCodes: z.array(z.string().max(12)).max(200).nullable().optional(),
            validFrom: z.iso.datetime({ offset: true }).optional(),
            validUntil: z.iso.datetime({ offset: true }),
            reason: z.string().max(500),
          }),
          response: { 201: GrantSchema, ...errors, 404: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const { validFrom, validUntil, ...rest } = req.body;
        const g = await identity.grants.grant(req.principal, {
          ...rest,
          ...(validFrom ? { validFrom: new Date(validFrom) } : {}),
          validUntil: new Date(validUntil),
        });
        // A privilege change of the caller's own account: the session gets a new id (session fixation).
        if (g.accountId === req.principal?.accountId && req.authSessionId) {
          setSessionCookie(reply, authConfig, await identity.rotate(req.authSessionId));
        }
        return reply.status(201).send(g);
      },
    );

    app.delete(
      '/api/v1/grants/:id',
      {
        schema: {
          tags: ['grants'],
          summary: "Revoke a grant at once (effective on the grantee's next request); audited",
          params: z.object({ id: z.string().uuid() }),
          querystring: z.object({ reason: z.string().max(500).describe('why, 2–500 characters') }),
          response: { 200: GrantSchema, ...errors, 404: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const g = await identity.grants.revoke(req.principal, req.params.id, req.query.reason);
        if (g.accountId === req.principal?.accountId && req.authSessionId) {
          setSessionCookie(reply, authConfig, await identity.rotate(req.authSessionId));
        }
        return g;
      },
    );

    app.get(
      '/api/v1/accounts/:id/grants',
      {
        schema: {
          tags: ['grants'],
          summary:
            "A staff account's grants, history included (the account itself, or an administrator over it)",
          params: z.object({ id: z.string().uuid() }),
          response: { 200: z.object({ items: z.array(GrantSchema) }), ...errors, 404: ErrorBodySchema },
        },
      },
      async (req) => ({ items: await identity.grants.list(req.principal, req.params.id) }),
    );

    // ---- 帮办代办 consent (委托授权, ./authorizations.ts)
    app.post(
      '/api/v1/agent-authorizations',
      {
        schema: {
          tags: ['agent-authorizations'],
          summary: 'An agent (帮办员 / 村级代办员) records an authorization to act for a resident (委托授权)',
          description:
            'Only staff holding helper or village_agent in force (403 `agent_authorization.not_agent`). The resident is named by account id or by resident ID number (looked up through the blind index; never stored or returned). Items: codes or null for every item; validUntil at most one year after validFrom. Evidence `signed_form` (SM3 digest of the scanned signed form plus its storage key or reference) is pending until the scan with that digest is uploaded (PUT …/signed-form); `on_screen_signature` (the resident signs on the agent’s phone: SM3 digest of the signature PNG) is pending until that PNG is uploaded the same way (image/png); `in_app` is pending until the resident consents while signed in (she may also consent to a pending one). With an Idempotency-Key (an agent’s offline outbox) a replay answers the first result and records nothing new (409 idempotency.key_reused for a different body). Audited (`agent_authorization.create`, actor = agent on behalf of the resident, details.evidence the kind). 行政许可法 art. 29; 个人信息保护法 art. 13/14.',
          body: z.strictObject({
            resident: z.union([
              z.strictObject({ accountId: z.string().max(64) }),
              z.strictObject({ idNumber: z.string().max(32) }),
            ]),
            itemCodes: z.array(z.string().max(12)).max(200).nullable().optional(),
            validFrom: z.iso.datetime({ offset: true }).optional(),
            validUntil: z.iso.datetime({ offset: true }),
            evidence: z.discriminatedUnion('kind', [
              z.strictObject({ kind: z.literal('in_app') }),
              z.strictObject({
                kind: z.literal('signed_form'),
                sm3: z.string().max(64).describe('SM3 digest (64 hex) of the scan'),
                fileKey: z.string().max(200).optional().describe('storage key of the uploaded scan'),
                reference: z.string().max(100).optional().describe('委托书编号 / filing reference'),
              }),
              z.strictObject({
                kind: z.literal('on_screen_signature'),
                sm3: z
                  .string()
                  .max(64)
                  .describe('SM3 digest (64 hex) of the PNG of the signature the resident drew on screen'),
                reference: z.string().max(100).optional().describe('the agent’s own reference, if any'),
              }),
            ]),
          }),
          headers: z.object({
            'idempotency-key': z
              .string()
              .optional()
              .describe(
                'client-generated key (e.g. a UUID), the same on every retry: a replay answers the first result and records nothing new',
              ),
          }),
          response: { 201: AgentAuthorizationSchema, ...errors, 404: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const { validFrom, validUntil, ...rest } = req.body;
        const key = req.headers['idempotency-key'];
        const a = await identity.authorizations.create(
          req.principal,
          {
            ...rest,
            ...(validFrom ? { validFrom: new Date(validFrom) } : {}),
            validUntil: new Date(validUntil),
          },
          key === undefined ? {} : { idempotencyKey: key },
        );
        return reply.status(201).send(a);
      },
    );

    app.get(
      '/api/v1/agent-authorizations',
      {
        schema: {
          tags: ['agent-authorizations'],
          summary:
            "The caller's authorizations: a resident's (naming them) or an agent's (recorded by them), history included",
          response: { 200: z.object({ items: z.array(AgentAuthorizationSchema) }), ...errors },
        },
      },
      async (req) => ({ items: await identity.authorizations.list(req.principal) }),
    );

    app.post(
      '/api/v1/agent-authorizations/:id/consent',
      {
        schema: {
          tags: ['agent-authorizations'],
          summary: 'The resident, signed in, consents to a pending in-app authorization naming them',
          params: z.object({ id: z.string().max(64) }),
          response: { 200: AgentAuthorizationSchema, ...errors, 404: ErrorBodySchema },
        },
      },
      async (req) => identity.authorizations.consent(req.principal, req.params.id),
    );

    app.post(
      '/api/v1/agent-authorizations/:id/revoke',
      {
        schema: {
          tags: ['agent-authorizations'],
          summary:
            'Revoke an authorization at once (the resident it names, or its agent): the next submission under it is refused',
          params: z.object({ id: z.string().max(64) }),
          body: z.strictObject({ reason: z.string().max(500).optional() }).optional(),
          response: { 200: AgentAuthorizationSchema, ...errors, 404: ErrorBodySchema },
        },
      },
      async (req) => identity.authorizations.revoke(req.principal, req.params.id, req.body?.reason),
    );

    // ---- the scan of the signed form (签字委托书扫描件), stored in the file store and SM3-verified
    const maxBytes = deps.maxUploadBytes ?? 20 * 1024 * 1024;
    await app.register(async (scoped) => {
      // raw bodies in this scope only (streamed to the file store, size-checked there too)
      scoped.addContentTypeParser([...SIGNED_FORM_CONTENT_TYPES], (req, payload, done) => {
        const length = Number(req.headers['content-length']);
        if (Number.isFinite(length) && length > maxBytes) done(fileTooLarge(maxBytes, length), undefined);
        // wrapped with a private field: the body scan (NUL / nesting depth, http/app.ts) must not walk
        // the socket behind the stream (a real connection nests past its depth limit: 400 http.too_deep)
        else done(null, new SignedFormBody(payload as Readable));
      });
      scoped.put(
        '/api/v1/agent-authorizations/:id/signed-form',
        {
          schema: {
            tags: ['agent-authorizations'],
            summary:
              'The agent uploads the scan of the signed form (签字委托书扫描件), or the PNG of the resident’s on-screen signature, of a pending authorization',
            description: `Body: the scan's bytes, Content-Type ${SIGNED_FORM_CONTENT_TYPES.join(' | ')}, at most ${maxBytes} bytes (FILES_MAX_BYTES; 413 file.too_large). Its SM3 digest must be the one recorded with the authorization (400 agent_authorization.sm3_mismatch, nothing kept). The agent who recorded it only (404 otherwise). Audited (agent_authorization.evidence_upload).`,
            params: z.object({ id: z.string().max(64) }),
            response: {
              200: AgentAuthorizationSchema,
              ...errors,
              404: ErrorBodySchema,
              409: ErrorBodySchema,
            },
          },
        },
        async (req) =>
          identity.authorizations.uploadSignedForm(
            req.principal,
            (req.params as { id: string }).id,
            (req.body as SignedFormBody).stream,
            req.headers['content-type'],
          ),
      );
    });

    app.get(
      '/api/v1/agent-authorizations/:id/signed-form',
      {
        schema: {
          tags: ['agent-authorizations'],
          summary:
            'Download the scan of the signed form, verified against its SM3 digest (the agent, the resident, staff with case.reveal_pii over the agent’s hall; audited)',
          description:
            'Response headers: Content-Type as uploaded, X-Tongban-SM3 (the verified digest), Cache-Control: no-store. 404 agent_authorization.not_found to anyone else; 404 agent_authorization.no_scan when nothing was uploaded; 500 agent_authorization.scan_tampered when the stored bytes no longer match.',
          params: z.object({ id: z.string().max(64) }),
          response: {
            200: z.string().meta({ format: 'binary' }).describe('the scan, as uploaded'),
            ...errors,
            404: ErrorBodySchema,
          },
        },
      },
      async (req, reply) => {
        const p = req.principal;
        const file = await identity.authorizations.downloadSignedForm(p, req.params.id, (hall) =>
          hall
            ? anyGrantAllows(
                p?.grants ?? [],
                'case.reveal_pii',
                { hallCodes: [hall], divisionCodes: [hall.split('-')[0]!] },
                identity.now(),
              )
            : false,
        );
        return reply
          .header('content-type', file.contentType)
          .header('content-length', file.body.length)
          .header('content-disposition', `attachment; filename="${file.fileKey}"`)
          .header('cache-control', 'no-store')
          .header('x-tongban-sm3', file.sm3)
          .send(file.body as unknown as string);
      },
    );
  };
}

function requireOidc(oidc: OidcLogin | undefined): OidcLogin {
  if (!oidc)
    throw new AppError(
      'not_found',
      'auth.oidc_disabled',
      'Sign-in through the identity platform is not configured here (OIDC_ISSUER is unset).',
    );
  return oidc;
}

/** A raw signed-form body: the request stream behind a private field (not walked by the body scan). */
class SignedFormBody {
  readonly #stream: Readable;
  constructor(stream: Readable) {
    this.#stream = stream;
  }
  get stream(): Readable {
    return this.#stream;
  }
}

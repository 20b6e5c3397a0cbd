import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import {
  type ApiScope,
  publicReference,
  requirePrincipal,
  requireScope,
} from '../modules/identity/policy.ts';

/**
 * Every route's access policy, in one table, so no endpoint can exist without one (等保 2.0 GB/T
 * 22239-2019 8.1.4.2 访问控制: access rules are set for every subject and object; deny by default).
 *
 * - `access` — who may call at all, checked before the body is read:
 *   - `public`: anyone, signed in or not (public reference data — 政务公开 — health, sign-in itself);
 *   - `signed_in`: a principal (session, API token, development header) or 401; the route's module
 *     policy then decides on roles × jurisdiction (e.g. src/server/modules/cases/policy.ts);
 *   - `account`: the identity service authenticates itself (the caller acts on its own account; an
 *     administrator who must still enrol TOTP may reach these).
 * - `scope` — what an API token (`Authorization: Bearer tbk_…`) must carry to call the route (403
 *   `auth.scope_missing` otherwise); null = no scope needed (public routes, one's own account). Sessions
 *   and the development header are not limited by scopes.
 *
 * Keys are `METHOD path` as registered (HEAD answers as its GET). {@link installRoutePolicies} refuses to
 * start an app with a route that has no entry.
 */
export interface RoutePolicy {
  access: 'public' | 'signed_in' | 'account';
  scope: ApiScope | null;
}

const open: RoutePolicy = { access: 'public', scope: null };
const account: RoutePolicy = { access: 'account', scope: null };
const signedIn = (scope: ApiScope): RoutePolicy => ({ access: 'signed_in', scope });

/** The table (see {@link RoutePolicy}). */
export const ROUTE_POLICIES: Readonly<Record<string, RoutePolicy>> = {
  'GET /health': open,
  // public reference data (publicReference)
  'GET /api/v1/divisions': open,
  'GET /api/v1/divisions/:code': open,
  'GET /api/v1/departments': open,
  'GET /api/v1/departments/:id': open,
  'GET /api/v1/halls': open,
  'GET /api/v1/halls/:code': open,
  'GET /api/v1/calendar/days/:date': open,
  'GET /api/v1/calendar/working-days': open,
  'GET /api/v1/calendar/years': open,
  'GET /api/v1/catalog/industries': open,
  'GET /api/v1/catalog/items': open,
  'GET /api/v1/catalog/items/:code': open,
  'GET /api/v1/catalog/items/:code/guide': open,
  'GET /api/v1/catalog/items/:code/implementations': open,
  'GET /api/v1/catalog/search': open,
  // the citizen app (offline sync, browse, popular in my county) — public reference data
  'GET /api/v1/catalog/sync': open,
  'GET /api/v1/catalog/life-events': open,
  'GET /api/v1/catalog/popular': open,
  // public tracking by the QR code on notices: number + check characters, rate-limited, no personal data
  'GET /api/v1/track/:number': open,
  'GET /api/v1/notifications/push/vapid-public-key': open,
  'GET /api/v1/halls/:code/windows': open,
  // cases (src/server/modules/cases/policy.ts)
  'POST /api/v1/cases': signedIn('cases:write'),
  'GET /api/v1/cases/:ref': signedIn('cases:read'),
  'GET /api/v1/cases/:ref/timeline': signedIn('cases:read'),
  'POST /api/v1/cases/:ref/commands': signedIn('cases:write'),
  'POST /api/v1/cases/:ref/pickup': signedIn('cases:write'),
  'POST /api/v1/cases/:ref/pickup-code': signedIn('cases:write'),
  'POST /api/v1/cases/:ref/parts/:seq/decision': signedIn('cases:write'),
  'POST /api/v1/cases/:ref/applicant/reveal': signedIn('pii:reveal'),
  'POST /api/v1/applicant-cases': signedIn('cases:read'),
  'GET /api/v1/me/cases': signedIn('cases:read'),
  'GET /api/v1/departments/:id/inbox': signedIn('cases:read'),
  'GET /api/v1/halls/:code/intake': signedIn('cases:read'),
  'GET /api/v1/halls/:code/delegations': signedIn('cases:read'),
  'POST /api/v1/delegations': signedIn('delegations:write'),
  'POST /api/v1/delegations/:id/revoke': signedIn('delegations:write'),
  // custody (原件 and scans)
  'GET /api/v1/cases/:ref/materials': signedIn('cases:read'),
  'GET /api/v1/cases/:ref/materials/:seq/files/:key': signedIn('cases:read'),
  'POST /api/v1/cases/:ref/materials/:seq/custody': signedIn('custody:write'),
  'PUT /api/v1/cases/:ref/materials/:seq/file': signedIn('custody:write'),
  // documents (文书: whoever may read the case)
  'GET /api/v1/cases/:ref/documents': signedIn('cases:read'),
  'GET /api/v1/cases/:ref/documents/:id': signedIn('cases:read'),
  // notifications (src/server/modules/notifications/policy.ts)
  'GET /api/v1/notifications/inbox': signedIn('notifications:read'),
  'POST /api/v1/notifications/inbox/read': signedIn('notifications:write'),
  'POST /api/v1/notifications/push-subscriptions': signedIn('notifications:write'),
  // in-case messaging 办件沟通 (src/server/modules/messaging/policy.ts)
  'GET /api/v1/cases/:ref/threads': signedIn('cases:read'),
  'POST /api/v1/cases/:ref/threads': signedIn('cases:write'),
  'POST /api/v1/cases/:ref/threads/:threadId/departments': signedIn('cases:write'),
  'GET /api/v1/cases/:ref/threads/:threadId/messages': signedIn('cases:read'),
  'POST /api/v1/cases/:ref/threads/:threadId/messages': signedIn('cases:write'),
  'POST /api/v1/cases/:ref/threads/:threadId/read': signedIn('cases:read'),
  'GET /api/v1/cases/:ref/threads/:threadId/mentionable': signedIn('cases:read'),
  'GET /api/v1/messaging/unread': signedIn('cases:read'),
  'GET /api/v1/messaging/live': signedIn('cases:read'),
  // audit
  'GET /api/v1/audit/entries': signedIn('audit:read'),
  'GET /api/v1/audit/admin-changes': signedIn('audit:read'),
  // identity: sign-in is public; one's own account is the identity service's to check
  'POST /api/v1/auth/residents': open,
  'POST /api/v1/auth/sms-code': open,
  'POST /api/v1/auth/login/sms': open,
  'POST /api/v1/auth/login/password': open,
  'GET /api/v1/auth/oidc/start': open,
  'GET /api/v1/auth/oidc/callback': open,
  'GET /api/v1/auth/csrf-token': account,
  'POST /api/v1/auth/legal-persons': account,
  'POST /api/v1/auth/totp/enrol': account,
  'POST /api/v1/auth/totp/confirm': account,
  'POST /api/v1/auth/act-as': account,
  'POST /api/v1/auth/logout': account,
  'GET /api/v1/auth/me': account,
  'POST /api/v1/auth/api-tokens': account,
  'GET /api/v1/auth/api-tokens': account,
  'DELETE /api/v1/auth/api-tokens/:id': account,
  // grants (授权)
  'POST /api/v1/grants': signedIn('grants:write'),
  'DELETE /api/v1/grants/:id': signedIn('grants:write'),
  'GET /api/v1/accounts/:id/grants': signedIn('grants:read'),
  'GET /api/v1/grants/grantable': signedIn('grants:read'),
  // staff administration (src/server/modules/identity/staff.ts: grant.manage within one's scope)
  'GET /api/v1/staff': signedIn('staff:read'),
  'POST /api/v1/staff': signedIn('staff:write'),
  'GET /api/v1/staff/:id': signedIn('staff:read'),
  'POST /api/v1/staff/:id/disable': signedIn('staff:write'),
  'POST /api/v1/staff/:id/enable': signedIn('staff:write'),
  'POST /api/v1/staff/:id/password-reset': signedIn('staff:write'),
  // halls administration (src/server/modules/halls/policy.ts: hall.manage over the hall)
  'PUT /api/v1/halls/:code/windows': signedIn('halls:write'),
  'PUT /api/v1/halls/:code/opening-hours': signedIn('halls:write'),
  'PUT /api/v1/halls/:code/status': signedIn('halls:write'),
  // implementation lists and the catalog workbook (src/server/modules/catalog/policy.ts)
  'GET /api/v1/divisions/:code/implementations': signedIn('catalog:read'),
  'PUT /api/v1/implementations/:code/variances': signedIn('catalog:write'),
  'POST /api/v1/catalog/import': signedIn('catalog:write'),
  'GET /api/v1/catalog/export': signedIn('catalog:read'),
  // 帮办代办 consent (委托授权): agents record; residents see, consent, revoke
  'POST /api/v1/agent-authorizations': signedIn('agent_authorizations:write'),
  'GET /api/v1/agent-authorizations': signedIn('agent_authorizations:read'),
  'POST /api/v1/agent-authorizations/:id/consent': signedIn('agent_authorizations:write'),
  'POST /api/v1/agent-authorizations/:id/revoke': signedIn('agent_authorizations:write'),
  'PUT /api/v1/agent-authorizations/:id/signed-form': signedIn('agent_authorizations:write'),
  'GET /api/v1/agent-authorizations/:id/signed-form': signedIn('agent_authorizations:read'),
  // 预警 (src/server/modules/warnings/service.ts: dashboard.read over the alert to see, alert.manage to act)
  'GET /api/v1/alerts': signedIn('alerts:read'),
  'GET /api/v1/alerts/rules': signedIn('alerts:read'),
  'POST /api/v1/alerts/:id/acknowledge': signedIn('alerts:write'),
  'POST /api/v1/alerts/:id/resolve': signedIn('alerts:write'),
  // staff feedback channel 一线反馈 (src/server/modules/feedback/policy.ts)
  'POST /api/v1/feedback': signedIn('feedback:write'),
  'GET /api/v1/feedback/mine': signedIn('feedback:read'),
  'GET /api/v1/feedback': signedIn('feedback:read'),
  'GET /api/v1/feedback/:id': signedIn('feedback:read'),
  'POST /api/v1/feedback/:id/triage': signedIn('feedback:write'),
  'POST /api/v1/feedback/:id/comments': signedIn('feedback:write'),
  'POST /api/v1/feedback/:id/close': signedIn('feedback:write'),
  // 好差评 (src/server/modules/evaluations/policy.ts): rating by the applicant, the rating link's token or
  // the hall tablet (the service checks which); public satisfaction figures; rectifications and appeals
  // for staff with evaluation.rectify / appeal / review over the place
  'POST /api/v1/evaluations': open,
  'GET /api/v1/evaluations/rating-status/:number': open,
  'POST /api/v1/rectifications/:id/follow-up': open,
  'GET /api/v1/satisfaction/halls/:code': open,
  'GET /api/v1/satisfaction/items/:code': open,
  'GET /api/v1/rectifications': signedIn('cases:read'),
  'POST /api/v1/rectifications/:id/call-back': signedIn('cases:write'),
  'POST /api/v1/rectifications/:id/outcome': signedIn('cases:write'),
  'POST /api/v1/evaluations/:id/appeal': signedIn('cases:write'),
  'GET /api/v1/evaluation-appeals': signedIn('cases:read'),
  'POST /api/v1/evaluation-appeals/:id/decision': signedIn('cases:write'),
  // KPIs (src/server/modules/kpi/policy.ts: dashboard.read over the division or hall)
  'GET /api/v1/kpi/dashboard': signedIn('dashboard:read'),
  'GET /api/v1/kpi/definitions': signedIn('dashboard:read'),
};

/** Routes added by plugins, not by modules: the API documentation and the web client's files. */
function pluginRoute(url: string): boolean {
  return (
    url === '/docs' ||
    url.startsWith('/docs/') ||
    url === '/*' ||
    url === '/' ||
    url === '/staff' ||
    url === '/staff/*' ||
    url === '/track/*'
  );
}

/** The policy of a registered route, or undefined. HEAD routes answer as their GET. */
export function policyOf(method: string, url: string, table = ROUTE_POLICIES): RoutePolicy | undefined {
  if (pluginRoute(url)) return open;
  return table[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}

/** Checks a request against its route's policy (401 / 403 `auth.scope_missing`). */
export function checkRoutePolicy(req: Pick<FastifyRequest, 'principal'>, policy: RoutePolicy): void {
  if (policy.access === 'public') {
    publicReference();
    return;
  }
  if (policy.access === 'signed_in') requirePrincipal(req.principal);
  if (req.principal && policy.scope !== null) requireScope(req.principal, policy.scope);
}

const REGISTERED = new WeakMap<FastifyInstance, string[]>();

/** Every `METHOD path` registered on an app built with the policies (HEAD and plugin routes left out). */
export function registeredRoutes(app: FastifyInstance): readonly string[] {
  return REGISTERED.get(app) ?? [];
}

/**
 * Installs the table on a Fastify app (call before routes are registered): every route registered
 * afterwards gets an `onRequest` check of its policy (before validation, so an anonymous caller learns
 * nothing from 400s), and a route without an entry makes registration FAIL — the app does not start.
 * `routes` collects every `METHOD path` registered (the authorization matrix test enumerates them).
 */
export function installRoutePolicies(
  app: FastifyInstance,
  table: Readonly<Record<string, RoutePolicy>> = ROUTE_POLICIES,
): { routes: string[] } {
  const routes: string[] = [];
  REGISTERED.set(app, routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    const policies = new Map<string, RoutePolicy>();
    for (const method of [route.method].flat()) {
      const policy = policyOf(method, route.url, table);
      if (!policy)
        throw new Error(
          `Route ${method} ${route.url} has no access policy: add it to ROUTE_POLICIES (src/server/http/route-policies.ts).`,
        );
      policies.set(method, policy);
      if (method !== 'HEAD' && !pluginRoute(route.url)) routes.push(`${method} ${route.url}`);
    }
    const check = async (req: FastifyRequest) => checkRoutePolicy(req, policies.get(req.method) ?? open);
    const existing = route.onRequest ? [route.onRequest].flat() : [];
    route.onRequest = [check, ...existing] as RouteOptions['onRequest'];
  });
  return { routes };
}

/**
 * The authorization matrix (等保 2.0 8.1.4.2 访问控制): real staff accounts — created with the identity
 * service, signed in with a password, calling with API tokens — each holding ONE grant in scope or out of
 * scope (own hall vs another county's hall, own department vs another, division subtree vs outside),
 * against EVERY route of the app (enumerated at run time from the route-policy hook: a route without a
 * row here fails the test), about one case filed in 凯里 (522601-zwfw) for 威宁 (520526). Each cell is the
 * exact status (and, where a status alone is ambiguous, the error code or the number of items).
 *
 * 帮办代办: a village agent over the intake hall holding the resident's authorization, a helper there
 * without one, a village agent of another county; and residents: the one the case was filed for by the
 * agent (she sees and acts on it) and another (404 for everything about it). Residents call with their
 * cookie session and CSRF token.
 *
 * Then: a grant works on the next request without a new sign-in; it ends at its expiry (injected clock);
 * revocation is immediate; an administrator cannot grant beyond their own grant (403, nothing written).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../testing/pii-flow.ts';
import { registeredRoutes } from './http/route-policies.ts';
import type { RunningServer } from './main.ts';
import { sessionCookieName } from './modules/identity/plugin.ts';
import { API_SCOPES } from './modules/identity/policy.ts';
import { principalFromDevActor } from './modules/identity/principal.ts';
import { sm3Hex } from './modules/storage/service.ts';
import { startTestServer } from './testing.ts';

const PASSWORD = 'Matrix-Passw0rd!2026';
const KAILI_HALL = '522601-zwfw';
const GUIYANG_HALL = '520102-zwfw';

let server: RunningServer;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

/** The callers of the matrix. */
const PRINCIPALS = [
  'anonymous',
  'kailiClerk', // intake_clerk over hall 522601-zwfw (the intake hall)
  'kailiReadOnly', // the same account, a token with cases:read only
  'guiyangClerk', // intake_clerk over hall 520102-zwfw (another county's hall)
  'weiningOfficer', // acceptance_officer over the 威宁 civil affairs bureau (competent)
  'otherOfficer', // acceptance_officer over the 南明 civil affairs bureau (another department)
  'weiningApprover', // approver over the 威宁 bureau
  'weiningAdmin', // county_admin over division 520526 (deciding division)
  'qdnAdmin', // prefecture_admin over division 5226 (黔东南: covers 凯里)
  'gyAdmin', // prefecture_admin over division 5201 (贵阳: outside)
  'auditor', // auditor over the province (52)
  'countyAuditor', // auditor over 5226 only (the log is province-wide: refused)
  'villageAgent', // village_agent over hall 522601-zwfw, holding the resident's authorization (filed the case)
  'helperNoAuth', // helper over hall 522601-zwfw, no authorization of the resident
  'outAgent', // village_agent over hall 520102-zwfw (another county)
  'resident', // the resident the case was filed for (cookie session)
  'otherResident', // another resident (cookie session)
] as const;
type Who = (typeof PRINCIPALS)[number];

/** The scan of the resident's signed form (委托书), uploaded by the village agent. */
const SIGNED_FORM = Buffer.from('%PDF-1.7\n% 委托书 matrix\n%%EOF\n');

const tokens = {} as Record<Who, string | undefined>;
/** Residents' cookie sessions (cookie + X-CSRF-Token). */
const sessions = {} as Partial<Record<Who, Record<string, string>>>;
const AGENTS = new Set<Who>(['villageAgent', 'helperNoAuth', 'outAgent']);
let residentIdNumber = '';
let otherResidentIdNumber = '';
/** villageAgent's authorizations: from the resident (the case) and from the other resident (a new filing). */
let authorizationForResident = '';
let authorizationForOther = '';
const accounts = {} as Record<string, string>;
let weiningDept = '';
let kailiDept = '';
let otherDept = '';
let consultedDept = '';
let caseNumber = '';
let caseId = '';
let materialSeq = 1;
let idA = '';
let delegationId = '';
let revocableGrantId = '';
let agentAuthorizationId = '';
/** Two alerts in 凯里 (522601): one to acknowledge, one to resolve (黔东南's administrator may). */
let alertToAcknowledge = '';
let alertToResolve = '';
let feedbackId = '';

/** One route's request and the expected answer per caller (`default` for the rest). */
interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: () => string;
  body?: (who: Who) => unknown;
  raw?: { bytes: Buffer; type: string };
  /** Call from a client address of its own per caller (routes limited per address). */
  perCallerIp?: boolean;
  expect: Partial<Record<Who | 'default', string>>;
}

const all = (s: string) => ({ default: s });
/** Public reference data: the same answer to everyone, signed in or not. */
const pub = all('200');
/** Case routes: 401 anonymous, 404 for a case the caller cannot see (the 404 rule). */
const hidden = { default: '404 case.not_found', anonymous: '401' };
const seers = (s: string) => ({
  ...hidden,
  kailiClerk: s,
  weiningOfficer: s,
  weiningApprover: s,
  weiningAdmin: s,
  qdnAdmin: s,
  // the agents of the intake hall read its cases (case.read over the hall); the resident reads hers
  villageAgent: s,
  helperNoAuth: s,
  resident: s,
});

/** Staff threads are hidden from residents, even on their own case (the 404 rule). */
const staffOnly = { resident: '404 case.not_found' };
/** Admin routes: 401 anonymous, 403 for a token without the route's scope, `refusal` for the rest. */
const adminsOnly = (refusal: string) => ({
  default: refusal,
  anonymous: '401',
  kailiReadOnly: '403 auth.scope_missing',
});
/** The administrators whose scope does not cover the 凯里 hall. */
const outsideAdmins = (s: string) => ({ weiningAdmin: s, gyAdmin: s });

const ROWS: Record<string, Row> = {
  'GET /health': { method: 'GET', url: () => '/health', expect: pub },
  'GET /api/v1/divisions': { method: 'GET', url: () => '/api/v1/divisions?parent=5226', expect: pub },
  'GET /api/v1/divisions/:code': { method: 'GET', url: () => '/api/v1/divisions/522601', expect: pub },
  'GET /api/v1/departments': { method: 'GET', url: () => '/api/v1/departments?division=520526', expect: pub },
  'GET /api/v1/departments/:id': {
    method: 'GET',
    url: () => `/api/v1/departments/${weiningDept}`,
    expect: pub,
  },
  'GET /api/v1/halls': { method: 'GET', url: () => '/api/v1/halls?division=522601', expect: pub },
  'GET /api/v1/halls/:code': { method: 'GET', url: () => `/api/v1/halls/${KAILI_HALL}`, expect: pub },
  'GET /api/v1/calendar/days/:date': {
    method: 'GET',
    url: () => '/api/v1/calendar/days/2026-10-01',
    expect: pub,
  },
  'GET /api/v1/calendar/working-days': {
    method: 'GET',
    url: () => '/api/v1/calendar/working-days?from=2026-10-01&to=2026-10-31',
    expect: pub,
  },
  'GET /api/v1/calendar/years': { method: 'GET', url: () => '/api/v1/calendar/years', expect: pub },
  'GET /api/v1/catalog/industries': { method: 'GET', url: () => '/api/v1/catalog/industries', expect: pub },
  'GET /api/v1/catalog/items': { method: 'GET', url: () => '/api/v1/catalog/items', expect: pub },
  'GET /api/v1/catalog/items/:code': {
    method: 'GET',
    url: () => '/api/v1/catalog/items/050004001000',
    expect: pub,
  },
  'GET /api/v1/catalog/items/:code/guide': {
    method: 'GET',
    url: () => '/api/v1/catalog/items/050004001000/guide?division=520526',
    expect: pub,
  },
  'GET /api/v1/catalog/items/:code/implementations': {
    method: 'GET',
    url: () => '/api/v1/catalog/items/050004001000/implementations',
    expect: pub,
  },
  'GET /api/v1/catalog/search': { method: 'GET', url: () => '/api/v1/catalog/search?q=低保', expect: pub },
  'GET /api/v1/catalog/sync': {
    method: 'GET',
    url: () => '/api/v1/catalog/sync?division=522601',
    expect: pub,
  },
  'GET /api/v1/catalog/life-events': { method: 'GET', url: () => '/api/v1/catalog/life-events', expect: pub },
  'GET /api/v1/catalog/popular': {
    method: 'GET',
    url: () => '/api/v1/catalog/popular?division=522601',
    expect: pub,
  },
  // public tracking: the number with the last 4 digits of the applicant's phone (one client address each,
  // as the lookups are limited per address)
  'GET /api/v1/track/:number': {
    method: 'GET',
    url: () => `/api/v1/track/${caseNumber}?check=8123`,
    perCallerIp: true,
    expect: pub,
  },
  'GET /api/v1/notifications/push/vapid-public-key': {
    method: 'GET',
    url: () => '/api/v1/notifications/push/vapid-public-key',
    expect: pub,
  },
  'GET /api/v1/halls/:code/windows': {
    method: 'GET',
    url: () => `/api/v1/halls/${KAILI_HALL}/windows`,
    expect: pub,
  },

  // ---- cases
  'POST /api/v1/cases': {
    method: 'POST',
    url: () => '/api/v1/cases',
    // agents file for the other resident under villageAgent's authorization; residents in their own name
    // (case.applicant_not_self otherwise, cases/resident-writes.test.ts); staff a walk-in
    body: (who) =>
      AGENTS.has(who)
        ? { ...submission(otherResidentIdNumber), agent: agentBlock(authorizationForOther) }
        : who === 'resident'
          ? submission(residentIdNumber)
          : who === 'otherResident'
            ? submission(otherResidentIdNumber)
            : submission(syntheticIdNumber('520526', '19700101', '771')),
    expect: {
      default: '403 case.scope_missing',
      anonymous: '401',
      kailiClerk: '201',
      kailiReadOnly: '403 auth.scope_missing',
      villageAgent: '201',
      helperNoAuth: '403 case.agent_not_authorized', // not the authorization's agent
      outAgent: '403 case.scope_missing', // the hall lies outside their grant
      resident: '201', // a resident files for themself
      otherResident: '201',
    },
  },
  'GET /api/v1/cases/:ref': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}`,
    expect: { ...seers('200'), kailiReadOnly: '200' },
  },
  'GET /api/v1/cases/:ref/timeline': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/timeline`,
    expect: { ...seers('200'), kailiReadOnly: '200' },
  },
  'POST /api/v1/cases/:ref/commands': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/commands`,
    // decide before acceptance: the role check passes only for the approver, whom the engine then refuses
    // by state. Agents and residents resubmit (an applicant-side command) on a case that is not waiting
    // for a supplement: past the authorization the engine refuses by state (409)
    body: (who) =>
      AGENTS.has(who) || who === 'resident' || who === 'otherResident'
        ? { type: 'resubmit' }
        : { type: 'decide', outcome: 'granted' },
    expect: {
      ...seers('403 case.role_missing'),
      weiningApprover: '409',
      kailiReadOnly: '403 auth.scope_missing',
      villageAgent: '409', // authorized: attributed onBehalfOf the resident, refused by state
      helperNoAuth: '403 case.agent_not_authorized',
      resident: '409',
    },
  },
  'POST /api/v1/cases/:ref/pickup': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/pickup`,
    body: () => ({ pickupCode: '000000' }),
    expect: {
      ...seers('403 case.role_missing'),
      kailiClerk: '409',
      weiningApprover: '409',
      kailiReadOnly: '403 auth.scope_missing',
      resident: '409 case.no_pickup',
    },
  },
  'POST /api/v1/cases/:ref/pickup-code': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/pickup-code`,
    expect: {
      ...seers('403 case.role_missing'),
      kailiClerk: '409',
      weiningApprover: '409',
      kailiReadOnly: '403 auth.scope_missing',
      resident: '409 case.no_pickup',
    },
  },
  'POST /api/v1/cases/:ref/parts/:seq/decision': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/parts/1/decision`,
    body: () => ({ outcome: 'granted' }),
    expect: {
      ...seers('403 case.role_missing'),
      weiningApprover: '404',
      kailiReadOnly: '403 auth.scope_missing',
      resident: '404 case.part_not_found', // hers, but no part 1 (and the engine lets departments only)
    },
  },
  'POST /api/v1/cases/:ref/applicant/reveal': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/applicant/reveal`,
    body: () => ({ purpose: '核验原件（矩阵测试）' }),
    expect: {
      ...seers('403 case.role_missing'),
      kailiClerk: '200',
      weiningOfficer: '200',
      kailiReadOnly: '403 auth.scope_missing',
      resident: '403 pii.reveal_forbidden',
    },
  },
  'POST /api/v1/applicant-cases': {
    method: 'POST',
    url: () => '/api/v1/applicant-cases',
    body: () => ({ identifier: idA }),
    // staff get only the cases they may see (idA's walk-in case and the one `resident` filed in their own
    // name by POST /api/v1/cases above); residents and admins outside: none
    expect: {
      default: '200 items=0',
      anonymous: '401',
      kailiClerk: '200 items=2',
      kailiReadOnly: '200 items=2',
      weiningOfficer: '200 items=2',
      weiningApprover: '200 items=2',
      weiningAdmin: '200 items=2',
      qdnAdmin: '200 items=2',
      villageAgent: '200 items=2',
      helperNoAuth: '200 items=2',
      resident: '403 case.scope_missing', // residents use GET /api/v1/me/cases
      otherResident: '403 case.scope_missing',
    },
  },
  'GET /api/v1/me/cases': {
    method: 'GET',
    url: () => '/api/v1/me/cases',
    // the resident: the case the agent filed for her + her own filing of the POST row; the other: the
    // agent's filing for him + his own
    expect: {
      default: '403 case.residents_only',
      anonymous: '401',
      resident: '200 items=2',
      otherResident: '200 items=2',
    },
  },
  'GET /api/v1/departments/:id/inbox': {
    method: 'GET',
    url: () => `/api/v1/departments/${weiningDept}/inbox`,
    expect: {
      default: '403 case.scope_missing',
      anonymous: '401',
      weiningOfficer: '200',
      weiningApprover: '200',
      weiningAdmin: '200',
    },
  },
  'GET /api/v1/halls/:code/intake': {
    method: 'GET',
    url: () => `/api/v1/halls/${KAILI_HALL}/intake`,
    expect: {
      default: '403 case.scope_missing',
      anonymous: '401',
      kailiClerk: '200',
      kailiReadOnly: '200',
      qdnAdmin: '200',
      villageAgent: '200',
      helperNoAuth: '200',
    },
  },
  'GET /api/v1/halls/:code/delegations': {
    method: 'GET',
    url: () => `/api/v1/halls/${KAILI_HALL}/delegations`,
    expect: {
      default: '403 case.scope_missing',
      anonymous: '401',
      kailiClerk: '200',
      kailiReadOnly: '200',
      qdnAdmin: '200',
      villageAgent: '200',
      helperNoAuth: '200',
    },
  },
  'POST /api/v1/delegations': {
    method: 'POST',
    url: () => '/api/v1/delegations',
    body: () => ({
      itemCode: '050004001000',
      departmentId: weiningDept,
      hallCode: KAILI_HALL,
      validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      reason: '无差别办理（矩阵测试）',
    }),
    expect: {
      default: '403 delegation.not_grantor',
      anonymous: '401',
      weiningAdmin: '201',
      kailiReadOnly: '403 auth.scope_missing',
    },
  },
  'POST /api/v1/delegations/:id/revoke': {
    method: 'POST',
    url: () => `/api/v1/delegations/${delegationId}/revoke`,
    body: () => ({ reason: '撤销（矩阵测试）' }),
    expect: {
      default: '403 delegation.not_grantor',
      anonymous: '401',
      weiningAdmin: '200',
      kailiReadOnly: '403 auth.scope_missing',
    },
  },

  // ---- documents (文书): whoever may read the case
  'GET /api/v1/cases/:ref/documents': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/documents`,
    expect: { ...seers('200'), kailiReadOnly: '200' },
  },
  'GET /api/v1/cases/:ref/documents/:id': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/documents/${randomUUID()}`,
    expect: { ...seers('404 document.not_found'), kailiReadOnly: '404 document.not_found' },
  },

  // ---- custody
  'GET /api/v1/cases/:ref/materials': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/materials`,
    expect: { ...seers('200'), kailiReadOnly: '200' },
  },
  'GET /api/v1/cases/:ref/materials/:seq/files/:key': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/materials/${materialSeq}/files/${randomUUID()}.pdf`,
    expect: {
      ...seers('404 custody.file_not_found'),
      kailiReadOnly: '404 custody.file_not_found',
      resident: '403 custody.not_allowed', // scans are for the staff handling the case
    },
  },
  'POST /api/v1/cases/:ref/materials/:seq/custody': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/materials/${materialSeq}/custody`,
    body: () => ({ type: 'received', as: 'copy' }),
    expect: {
      ...seers('403 case.role_missing'),
      kailiClerk: '201',
      // the role allows custody; the custody engine keeps receipts at the intake hall
      weiningOfficer: '403 custody.not_allowed',
      kailiReadOnly: '403 auth.scope_missing',
      resident: '403 custody.not_allowed',
    },
  },
  'PUT /api/v1/cases/:ref/materials/:seq/file': {
    method: 'PUT',
    url: () => `/api/v1/cases/${caseNumber}/materials/${materialSeq}/file`,
    raw: { bytes: Buffer.from('%PDF-1.7\n% matrix\n%%EOF\n'), type: 'application/pdf' },
    expect: {
      ...seers('403 case.role_missing'),
      kailiClerk: '201',
      weiningOfficer: '403 custody.not_allowed', // scans are made where the original was received
      kailiReadOnly: '403 auth.scope_missing',
      // the applicant's side: she photographs her materials; the agent under her authorization too
      resident: '201',
      villageAgent: '201',
      helperNoAuth: '403 case.agent_not_authorized',
    },
  },

  // ---- notifications
  'GET /api/v1/notifications/inbox': {
    method: 'GET',
    url: () => `/api/v1/notifications/inbox?recipient=department:${weiningDept}`,
    expect: {
      default: '403 notification.recipient_forbidden',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      weiningOfficer: '200',
      weiningApprover: '200',
      weiningAdmin: '200',
    },
  },
  'POST /api/v1/notifications/inbox/read': {
    method: 'POST',
    url: () => '/api/v1/notifications/inbox/read',
    body: () => ({ recipient: `department:${weiningDept}`, ids: [randomUUID()] }),
    expect: {
      default: '403 notification.recipient_forbidden',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      weiningOfficer: '200',
      weiningApprover: '200',
      weiningAdmin: '200',
    },
  },
  'POST /api/v1/notifications/push-subscriptions': {
    method: 'POST',
    url: () => '/api/v1/notifications/push-subscriptions',
    body: () => ({
      accountId: accounts.kailiClerk,
      subscription: {
        endpoint: 'https://push.example.invalid/matrix',
        keys: { p256dh: P256DH, auth: 'dGVzdC1hdXRoLTE2Ynl0ZQ' },
      },
    }),
    expect: {
      default: '403 notification.recipient_forbidden',
      anonymous: '401',
      kailiClerk: '201',
      kailiReadOnly: '403 auth.scope_missing',
    },
  },

  // ---- in-case messaging 办件沟通 (the general thread's id is the case id); residents never see staff threads
  'GET /api/v1/cases/:ref/threads': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/threads`,
    expect: { ...seers('200'), ...staffOnly, kailiReadOnly: '200' },
  },
  'POST /api/v1/cases/:ref/threads': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/threads`,
    body: () => ({ subject: '矩阵专题' }),
    expect: { ...seers('201'), ...staffOnly, kailiReadOnly: '403 auth.scope_missing' },
  },
  'POST /api/v1/cases/:ref/threads/:threadId/departments': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/threads/${caseId}/departments`,
    // a department none of the matrix's callers is scoped to (so the cells below do not move)
    body: () => ({ departmentId: consultedDept, reason: '会商（矩阵测试）' }),
    // those who handle the case at the intake hall or the competent department; supervisors may not
    expect: {
      ...seers('200'),
      ...staffOnly,
      // agents read the intake hall's cases but do not handle them
      villageAgent: '403 case_thread.consult_forbidden',
      helperNoAuth: '403 case_thread.consult_forbidden',
      weiningAdmin: '403 case_thread.consult_forbidden',
      qdnAdmin: '403 case_thread.consult_forbidden',
      kailiReadOnly: '403 auth.scope_missing',
    },
  },
  'GET /api/v1/cases/:ref/threads/:threadId/messages': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/threads/${caseId}/messages`,
    expect: { ...seers('200'), ...staffOnly, kailiReadOnly: '200' },
  },
  'POST /api/v1/cases/:ref/threads/:threadId/messages': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/threads/${caseId}/messages`,
    body: () => ({ text: '矩阵消息' }),
    expect: { ...seers('201'), ...staffOnly, kailiReadOnly: '403 auth.scope_missing' },
  },
  'POST /api/v1/cases/:ref/threads/:threadId/read': {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/threads/${caseId}/read`,
    body: () => ({ seq: 1 }),
    expect: { ...seers('200'), ...staffOnly, kailiReadOnly: '200' },
  },
  'GET /api/v1/cases/:ref/threads/:threadId/mentionable': {
    method: 'GET',
    url: () => `/api/v1/cases/${caseNumber}/threads/${caseId}/mentionable`,
    expect: { ...seers('200'), ...staffOnly, kailiReadOnly: '200' },
  },
  // every staff member has their own summary (of threads they may read)
  'GET /api/v1/messaging/unread': {
    method: 'GET',
    url: () => '/api/v1/messaging/unread',
    expect: { default: '200', anonymous: '401' },
  },
  // the WebSocket endpoint answers a plain GET with 426 once the caller passed authentication
  'GET /api/v1/messaging/live': {
    method: 'GET',
    url: () => '/api/v1/messaging/live',
    expect: {
      default: '426 live.upgrade_required',
      anonymous: '401',
      resident: '403 live.staff_only',
      otherResident: '403 live.staff_only',
    },
  },

  // ---- 好差评 (src/server/modules/evaluations): the case is not decided yet, so nobody may rate it; the
  // rectification and appeal ids are unknown (the module's own tests walk a real one through every step)
  'POST /api/v1/evaluations': {
    method: 'POST',
    url: () => '/api/v1/evaluations',
    body: () => ({ caseNumber, channel: 'mobile', level: 1 }),
    expect: {
      default: '403 evaluation.channel_not_allowed', // staff never rate their own work (only the hall tablet)
      anonymous: '401',
      resident: '409 evaluation.not_ratable',
      otherResident: '404 case.not_found',
    },
  },
  'GET /api/v1/evaluations/rating-status/:number': {
    method: 'GET',
    url: () => `/api/v1/evaluations/rating-status/${caseNumber}`,
    expect: {
      ...hidden,
      // the tablet: staff who see the case and work at its intake hall (account bound to 凯里)
      kailiClerk: '200',
      kailiReadOnly: '200',
      qdnAdmin: '200',
      villageAgent: '200',
      helperNoAuth: '200',
      weiningOfficer: '403 evaluation.other_hall',
      weiningApprover: '403 evaluation.other_hall',
      weiningAdmin: '403 evaluation.other_hall',
      resident: '200',
    },
  },
  'POST /api/v1/rectifications/:id/follow-up': {
    method: 'POST',
    url: () => `/api/v1/rectifications/${randomUUID()}/follow-up`,
    body: () => ({ level: 1 }),
    expect: all('404 rectification.not_found'),
  },
  'GET /api/v1/satisfaction/halls/:code': {
    method: 'GET',
    url: () => `/api/v1/satisfaction/halls/${KAILI_HALL}`,
    expect: pub,
  },
  'GET /api/v1/satisfaction/items/:code': {
    method: 'GET',
    url: () => '/api/v1/satisfaction/items/050004001000',
    expect: pub,
  },
  'GET /api/v1/rectifications': {
    method: 'GET',
    url: () => '/api/v1/rectifications',
    expect: {
      default: '200',
      anonymous: '401',
      resident: '403 evaluation.staff_only',
      otherResident: '403 evaluation.staff_only',
    },
  },
  'POST /api/v1/rectifications/:id/call-back': {
    method: 'POST',
    url: () => `/api/v1/rectifications/${randomUUID()}/call-back`,
    body: () => ({ summary: '矩阵回访' }),
    expect: { ...adminsOnly('404 rectification.not_found') },
  },
  'POST /api/v1/rectifications/:id/outcome': {
    method: 'POST',
    url: () => `/api/v1/rectifications/${randomUUID()}/outcome`,
    body: () => ({ outcome: '矩阵整改' }),
    expect: { ...adminsOnly('404 rectification.not_found') },
  },
  'POST /api/v1/evaluations/:id/appeal': {
    method: 'POST',
    url: () => `/api/v1/evaluations/${randomUUID()}/appeal`,
    body: () => ({ ground: 'mistaken', reason: '矩阵申诉' }),
    expect: { ...adminsOnly('404 evaluation.not_found') },
  },
  'GET /api/v1/evaluation-appeals': {
    method: 'GET',
    url: () => '/api/v1/evaluation-appeals',
    expect: {
      default: '200',
      anonymous: '401',
      resident: '403 evaluation.staff_only',
      otherResident: '403 evaluation.staff_only',
    },
  },
  'POST /api/v1/evaluation-appeals/:id/decision': {
    method: 'POST',
    url: () => `/api/v1/evaluation-appeals/${randomUUID()}/decision`,
    body: () => ({ decision: 'reject', reason: '矩阵复核' }),
    expect: { ...adminsOnly('404 evaluation_appeal.not_found') },
  },

  // ---- audit
  'GET /api/v1/audit/entries': {
    method: 'GET',
    url: () => '/api/v1/audit/entries?limit=1',
    expect: {
      default: '403 audit.forbidden',
      anonymous: '401',
      auditor: '200',
      kailiReadOnly: '403 auth.scope_missing',
    },
  },

  // the admin changes of one's own scope: any administrator (scoped inside src/server/modules/audit/routes.ts)
  'GET /api/v1/audit/admin-changes': {
    method: 'GET',
    url: () => '/api/v1/audit/admin-changes?limit=1',
    expect: { ...adminsOnly('403 audit.not_admin'), weiningAdmin: '200', qdnAdmin: '200', gyAdmin: '200' },
  },

  // ---- staff administration: the 黔东南 administrator administers the 凯里 hall's staff; 威宁's and
  // 贵阳's administrators are outside (404: existence not revealed; 403 for a binding outside their scope)
  'GET /api/v1/staff': {
    method: 'GET',
    url: () => '/api/v1/staff?limit=5',
    expect: { ...adminsOnly('403 grant.not_admin'), weiningAdmin: '200', qdnAdmin: '200', gyAdmin: '200' },
  },
  'POST /api/v1/staff': {
    method: 'POST',
    url: () => '/api/v1/staff',
    body: (who) => ({
      name: '矩阵新人',
      username: `m-new-${who}-${randomUUID().slice(0, 8)}`,
      hallCode: KAILI_HALL,
    }),
    expect: {
      ...adminsOnly('403 grant.not_admin'),
      qdnAdmin: '201',
      weiningAdmin: '403 staff.out_of_scope',
      gyAdmin: '403 staff.out_of_scope',
    },
  },
  'GET /api/v1/staff/:id': {
    method: 'GET',
    url: () => `/api/v1/staff/${accounts.kailiNew}`,
    expect: {
      ...adminsOnly('403 grant.not_admin'),
      ...outsideAdmins('404 account.not_found'),
      qdnAdmin: '200',
    },
  },
  'POST /api/v1/staff/:id/disable': {
    method: 'POST',
    url: () => `/api/v1/staff/${accounts.toDisable}/disable`,
    body: () => ({ reason: '矩阵测试' }),
    expect: {
      ...adminsOnly('403 grant.not_admin'),
      ...outsideAdmins('404 account.not_found'),
      qdnAdmin: '200',
    },
  },
  'POST /api/v1/staff/:id/enable': {
    method: 'POST',
    url: () => `/api/v1/staff/${accounts.toDisable}/enable`,
    body: () => ({ reason: '矩阵测试' }),
    expect: {
      ...adminsOnly('403 grant.not_admin'),
      ...outsideAdmins('404 account.not_found'),
      qdnAdmin: '200',
    },
  },
  'POST /api/v1/staff/:id/password-reset': {
    method: 'POST',
    url: () => `/api/v1/staff/${accounts.toDisable}/password-reset`,
    body: () => ({ reason: '矩阵测试' }),
    expect: {
      ...adminsOnly('403 grant.not_admin'),
      ...outsideAdmins('404 account.not_found'),
      qdnAdmin: '200',
    },
  },
  'GET /api/v1/grants/grantable': {
    method: 'GET',
    url: () => '/api/v1/grants/grantable',
    expect: { ...adminsOnly('403 grant.not_admin'), weiningAdmin: '200', qdnAdmin: '200', gyAdmin: '200' },
  },

  // ---- halls administration: the 凯里 hall lies in 黔东南 (qdnAdmin); halls are public, so 403 outside
  'PUT /api/v1/halls/:code/windows': {
    method: 'PUT',
    url: () => `/api/v1/halls/${KAILI_HALL}/windows`,
    body: () => ({ windows: [{ number: 1, name: '综合窗口', itemCodes: null, industries: null }] }),
    expect: { ...adminsOnly('403 hall.out_of_scope'), qdnAdmin: '200' },
  },
  'PUT /api/v1/halls/:code/opening-hours': {
    method: 'PUT',
    url: () => `/api/v1/halls/${KAILI_HALL}/opening-hours`,
    body: () => ({ openingHours: { weekdays: ['09:00-12:00', '13:00-17:00'] } }),
    expect: { ...adminsOnly('403 hall.out_of_scope'), qdnAdmin: '200' },
  },
  'PUT /api/v1/halls/:code/status': {
    method: 'PUT',
    url: () => `/api/v1/halls/${KAILI_HALL}/status`,
    body: () => ({ status: 'open' }),
    expect: { ...adminsOnly('403 hall.out_of_scope'), qdnAdmin: '200' },
  },

  // ---- implementation lists (威宁's: its county administrator) and the catalog workbook. The import is
  // for province administrators only: none in this matrix holds it (qdnAdmin's catalog.import is not
  // province-wide); the allowed case is in src/server/modules/catalog/admin.test.ts.
  'GET /api/v1/divisions/:code/implementations': {
    method: 'GET',
    url: () => '/api/v1/divisions/520526/implementations?limit=1',
    expect: { ...adminsOnly('403 implementation.out_of_scope'), weiningAdmin: '200' },
  },
  'PUT /api/v1/implementations/:code/variances': {
    method: 'PUT',
    url: () => '/api/v1/implementations/050004001000-520526/variances',
    body: () => ({ variances: { notes: '矩阵测试补充说明' } }),
    expect: { ...adminsOnly('403 implementation.out_of_scope'), weiningAdmin: '200' },
  },
  'POST /api/v1/catalog/import': {
    method: 'POST',
    url: () => '/api/v1/catalog/import?dryRun=true',
    raw: { bytes: Buffer.from('[事项]\n基本编码\n'), type: 'text/csv' },
    expect: adminsOnly('403 catalog.province_admin_only'),
  },
  'GET /api/v1/catalog/export': {
    method: 'GET',
    url: () => '/api/v1/catalog/export?format=csv',
    expect: { ...adminsOnly('403 catalog.admin_only'), weiningAdmin: '200', qdnAdmin: '200', gyAdmin: '200' },
  },

  // ---- KPIs (kpi/policy.ts): dashboard.read over the division — only 黔东南's administrator covers 5226
  'GET /api/v1/kpi/dashboard': {
    method: 'GET',
    url: () => '/api/v1/kpi/dashboard?division=5226&from=2026-03-02&to=2026-03-06',
    expect: { ...adminsOnly('403 kpi.scope_missing'), qdnAdmin: '200' },
  },
  'GET /api/v1/kpi/definitions': {
    method: 'GET',
    url: () => '/api/v1/kpi/definitions',
    expect: { default: '200', anonymous: '401', kailiReadOnly: '403 auth.scope_missing' },
  },

  // ---- identity: sign-in is public (the same answer to everyone); one's own account
  'POST /api/v1/auth/residents': {
    method: 'POST',
    url: () => '/api/v1/auth/residents',
    body: () => ({}),
    expect: all('400'),
  },
  'POST /api/v1/auth/sms-code': {
    method: 'POST',
    url: () => '/api/v1/auth/sms-code',
    body: () => ({}),
    expect: all('400'),
  },
  'POST /api/v1/auth/login/sms': {
    method: 'POST',
    url: () => '/api/v1/auth/login/sms',
    body: () => ({}),
    expect: all('400'),
  },
  'POST /api/v1/auth/login/password': {
    method: 'POST',
    url: () => '/api/v1/auth/login/password',
    body: () => ({ password: 'x' }),
    expect: all('400'),
  },
  'GET /api/v1/auth/oidc/start': {
    method: 'GET',
    url: () => '/api/v1/auth/oidc/start',
    expect: all('404 auth.oidc_disabled'),
  },
  'GET /api/v1/auth/oidc/callback': {
    method: 'GET',
    url: () => '/api/v1/auth/oidc/callback?code=x&state=y',
    expect: all('404 auth.oidc_disabled'),
  },
  // only cookie sessions have a CSRF token
  'GET /api/v1/auth/csrf-token': {
    method: 'GET',
    url: () => '/api/v1/auth/csrf-token',
    expect: { default: '401', resident: '200', otherResident: '200' },
  },
  'POST /api/v1/auth/legal-persons': {
    method: 'POST',
    url: () => '/api/v1/auth/legal-persons',
    body: () => ({}),
    expect: all('400'),
  },
  'POST /api/v1/auth/totp/enrol': {
    method: 'POST',
    url: () => '/api/v1/auth/totp/enrol',
    expect: { default: '403', anonymous: '401' },
  },
  'POST /api/v1/auth/totp/confirm': {
    method: 'POST',
    url: () => '/api/v1/auth/totp/confirm',
    body: () => ({ code: '000000' }),
    expect: { default: '403', anonymous: '401' },
  },
  'POST /api/v1/auth/act-as': {
    method: 'POST',
    url: () => '/api/v1/auth/act-as',
    body: () => ({ legalPersonId: randomUUID() }),
    expect: { default: '403', anonymous: '401' },
  },
  'POST /api/v1/auth/logout': {
    method: 'POST',
    url: () => '/api/v1/auth/logout',
    expect: { default: '204', anonymous: '204' },
  },
  'GET /api/v1/auth/me': {
    method: 'GET',
    url: () => '/api/v1/auth/me',
    expect: { default: '200', anonymous: '401' },
  },
  // a token never manages tokens (a session only)
  'POST /api/v1/auth/api-tokens': {
    method: 'POST',
    url: () => '/api/v1/auth/api-tokens',
    body: () => ({ name: 'x', scopes: ['cases:read'] }),
    expect: { default: '403 auth.staff_only', anonymous: '401' },
  },
  'GET /api/v1/auth/api-tokens': {
    method: 'GET',
    url: () => '/api/v1/auth/api-tokens',
    expect: { default: '403 auth.staff_only', anonymous: '401' },
  },
  'DELETE /api/v1/auth/api-tokens/:id': {
    method: 'DELETE',
    url: () => `/api/v1/auth/api-tokens/${randomUUID()}`,
    expect: { default: '403 auth.staff_only', anonymous: '401' },
  },

  // ---- grants (授权)
  'POST /api/v1/grants': {
    method: 'POST',
    url: () => '/api/v1/grants',
    body: () => ({
      accountId: accounts.kailiNew,
      role: 'intake_clerk',
      scope: { kind: 'hall', value: KAILI_HALL },
      validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      reason: '新入职收件员',
    }),
    expect: {
      default: '403 grant.not_admin',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      qdnAdmin: '201',
      weiningAdmin: '404 account.not_found',
      gyAdmin: '404 account.not_found',
    },
  },
  'DELETE /api/v1/grants/:id': {
    method: 'DELETE',
    url: () => `/api/v1/grants/${revocableGrantId}?reason=${encodeURIComponent('调岗')}`,
    expect: {
      default: '403 grant.not_admin',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      qdnAdmin: '200',
      weiningAdmin: '404 grant.not_found',
      gyAdmin: '404 grant.not_found',
    },
  },
  'GET /api/v1/accounts/:id/grants': {
    method: 'GET',
    url: () => `/api/v1/accounts/${accounts.kailiNew}/grants`,
    expect: {
      default: '403 grant.not_admin',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      qdnAdmin: '200',
      weiningAdmin: '404 account.not_found',
      gyAdmin: '404 account.not_found',
    },
  },

  // ---- 帮办代办 consent (委托授权): the agents record (in-app, pending); the rows' authorization (pending,
  // in-app) was recorded by another agent for the resident: she alone consents and revokes
  'POST /api/v1/agent-authorizations': {
    method: 'POST',
    url: () => '/api/v1/agent-authorizations',
    body: () => ({
      resident: { accountId: accounts.resident },
      validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      evidence: { kind: 'in_app' },
    }),
    expect: {
      default: '403 agent_authorization.not_agent',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      villageAgent: '201',
      helperNoAuth: '201',
      outAgent: '201', // recording needs an agent role, not the resident's place
    },
  },
  'GET /api/v1/agent-authorizations': {
    method: 'GET',
    url: () => '/api/v1/agent-authorizations',
    // villageAgent: two from the set-up + one from the row above; the resident: the rows' one, villageAgent's
    // two for her and the helper's and outAgent's from the row above
    expect: {
      default: '200 items=0',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      villageAgent: '200 items=3',
      helperNoAuth: '200 items=1',
      outAgent: '200 items=1',
      resident: '200 items=5',
      otherResident: '200 items=1',
    },
  },
  'POST /api/v1/agent-authorizations/:id/consent': {
    method: 'POST',
    url: () => `/api/v1/agent-authorizations/${agentAuthorizationId}/consent`,
    expect: {
      default: '404 agent_authorization.not_found',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      resident: '200',
    },
  },
  'PUT /api/v1/agent-authorizations/:id/signed-form': {
    method: 'PUT',
    url: () => `/api/v1/agent-authorizations/${authorizationForResident}/signed-form`,
    raw: { bytes: SIGNED_FORM, type: 'application/pdf' },
    // the agent who recorded it only
    expect: {
      default: '404 agent_authorization.not_found',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      villageAgent: '200',
    },
  },
  'GET /api/v1/agent-authorizations/:id/signed-form': {
    method: 'GET',
    url: () => `/api/v1/agent-authorizations/${authorizationForResident}/signed-form`,
    // the agent, the resident, and staff with case.reveal_pii over the agent's hall (the 凯里 clerk)
    expect: {
      default: '404 agent_authorization.not_found',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      villageAgent: '200',
      resident: '200',
      kailiClerk: '200',
    },
  },

  // ---- 预警 (warnings/service.ts): dashboard.read over the alert to see it, alert.manage to act; an alert
  // out of one's scope does not exist for the caller (404)
  'GET /api/v1/alerts': {
    method: 'GET',
    url: () => '/api/v1/alerts?rule=overdue_spike&division=52',
    expect: {
      ...adminsOnly('403 alert.role_missing'),
      qdnAdmin: '200 items=2',
      weiningAdmin: '200 items=0',
      gyAdmin: '200 items=0',
    },
  },
  'GET /api/v1/alerts/rules': {
    method: 'GET',
    url: () => '/api/v1/alerts/rules',
    expect: { ...adminsOnly('403 alert.role_missing'), qdnAdmin: '200', weiningAdmin: '200', gyAdmin: '200' },
  },
  'POST /api/v1/alerts/:id/acknowledge': {
    method: 'POST',
    url: () => `/api/v1/alerts/${alertToAcknowledge}/acknowledge`,
    body: () => ({ note: '矩阵签收' }),
    expect: { ...adminsOnly('404 alert.not_found'), qdnAdmin: '200' },
  },
  'POST /api/v1/alerts/:id/resolve': {
    method: 'POST',
    url: () => `/api/v1/alerts/${alertToResolve}/resolve`,
    body: () => ({ resolution: '矩阵处置' }),
    expect: { ...adminsOnly('404 alert.not_found'), qdnAdmin: '200' },
  },
  'POST /api/v1/agent-authorizations/:id/revoke': {
    method: 'POST',
    url: () => `/api/v1/agent-authorizations/${agentAuthorizationId}/revoke`,
    body: () => ({ reason: '矩阵测试' }),
    expect: {
      default: '404 agent_authorization.not_found',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      resident: '200',
    },
  },

  // ---- staff feedback channel 一线反馈 (src/server/modules/feedback/policy.ts). The set-up report is the 凯里
  // clerk's (hall 522601-zwfw, division 522601): she and the 黔东南 administrator (triage over 5226) read it
  'POST /api/v1/feedback': {
    method: 'POST',
    url: () => '/api/v1/feedback',
    body: () => ({ category: 'system', summary: '矩阵反馈', screen: '/inbox' }),
    expect: {
      default: '201',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      auditor: '403 feedback.reporter_only',
      countyAuditor: '403 feedback.reporter_only',
      resident: '403 feedback.reporter_only',
      otherResident: '403 feedback.reporter_only',
    },
  },
  'GET /api/v1/feedback/mine': {
    method: 'GET',
    url: () => '/api/v1/feedback/mine',
    expect: {
      default: '200 items=1',
      kailiClerk: '200 items=2',
      anonymous: '401',
      kailiReadOnly: '403 auth.scope_missing',
      auditor: '403 feedback.reporter_only',
      countyAuditor: '403 feedback.reporter_only',
      resident: '403 feedback.reporter_only',
      otherResident: '403 feedback.reporter_only',
    },
  },
  // each administrator's queue holds the reports of their own place (from the row above and the set-up)
  'GET /api/v1/feedback': {
    method: 'GET',
    url: () => '/api/v1/feedback',
    expect: {
      ...adminsOnly('403 feedback.triager_only'),
      qdnAdmin: '200 items=5', // 凯里: the set-up, kailiClerk, qdnAdmin, villageAgent, helperNoAuth
      weiningAdmin: '200 items=3', // 威宁 bureau: weiningOfficer, weiningApprover, weiningAdmin
      gyAdmin: '200 items=4', // 贵阳: guiyangClerk, otherOfficer (南明), gyAdmin, outAgent
    },
  },
  'GET /api/v1/feedback/:id': {
    method: 'GET',
    url: () => `/api/v1/feedback/${feedbackId}`,
    expect: {
      ...adminsOnly('404 feedback.not_found'),
      kailiClerk: '200',
      qdnAdmin: '200',
      resident: '403 feedback.staff_only',
      otherResident: '403 feedback.staff_only',
    },
  },
  'POST /api/v1/feedback/:id/comments': {
    method: 'POST',
    url: () => `/api/v1/feedback/${feedbackId}/comments`,
    body: () => ({ text: '矩阵评论' }),
    expect: {
      ...adminsOnly('404 feedback.not_found'),
      kailiClerk: '201',
      qdnAdmin: '201',
      resident: '403 feedback.staff_only',
      otherResident: '403 feedback.staff_only',
    },
  },
  'POST /api/v1/feedback/:id/triage': {
    method: 'POST',
    url: () => `/api/v1/feedback/${feedbackId}/triage`,
    // the owner lies within the triager's own scope (a 凯里 bureau for the 黔东南 administrator)
    body: () => ({ owner: { kind: 'department', id: kailiDept }, priority: 'normal' }),
    expect: {
      ...adminsOnly('404 feedback.not_found'),
      kailiClerk: '403 feedback.triage_forbidden',
      qdnAdmin: '200',
      resident: '403 feedback.staff_only',
      otherResident: '403 feedback.staff_only',
    },
  },
  // the last feedback row: closing is final (nobody after qdnAdmin may read the report anyway). The row
  // above made the 凯里 civil affairs bureau the owner (a triager never hands a report outside their scope)
  'POST /api/v1/feedback/:id/close': {
    method: 'POST',
    url: () => `/api/v1/feedback/${feedbackId}/close`,
    body: () => ({ resolution: '矩阵关闭' }),
    expect: {
      ...adminsOnly('404 feedback.not_found'),
      kailiClerk: '403 feedback.triage_forbidden',
      qdnAdmin: '200',
      resident: '403 feedback.staff_only',
      otherResident: '403 feedback.staff_only',
    },
  },
};

/** The parts of a JSON answer the matrix reads. */
interface Answer {
  error?: { code?: string };
  items?: unknown[];
  id?: string;
  case?: { number: string; id: string; materials: { seq: number }[] };
}

/** A P-256 public point (65 bytes, base64url) for the push-subscription body. */
const P256DH = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';

function submission(idNumber: string) {
  return {
    itemCode: '050004001000', // 最低生活保障申请
    applicant: { kind: 'natural_person', name: '王小芳', idNumber, phone: '13800138123' },
    channel: 'hall_window',
    intakeHallCode: KAILI_HALL,
    processingMode: 'off_site_intake',
    decidingDivisionCode: '520526',
    delivery: { method: 'pickup', hallCode: KAILI_HALL },
    formData: { familySize: 3 },
  };
}

async function call(who: Who, row: Row): Promise<{ status: number; body: Answer }> {
  const token = tokens[who];
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(sessions[who] ?? {}),
    ...(row.method !== 'GET' ? { 'idempotency-key': randomUUID() } : {}),
    ...(row.raw ? { 'content-type': row.raw.type } : {}),
  };
  const body = row.body?.(who);
  const res = await server.app.inject({
    method: row.method,
    url: row.url(),
    headers,
    ...(row.perCallerIp ? { remoteAddress: `10.201.0.${PRINCIPALS.indexOf(who) + 1}` } : {}),
    ...(row.raw ? { payload: row.raw.bytes } : body !== undefined ? { payload: body as object } : {}),
  });
  let json: Answer = {};
  try {
    json = res.json();
  } catch {}
  // a new CSRF token replaces the old one; a resident who signed out signs in again for the next rows
  const csrf = (json as { csrfToken?: string }).csrfToken;
  if (sessions[who] && csrf) sessions[who] = { ...sessions[who], 'x-csrf-token': csrf };
  if (sessions[who] && row.url() === '/api/v1/auth/logout') sessions[who] = await residentSession(who);
  return { status: res.statusCode, body: json };
}

const PHONES: Partial<Record<Who, string>> = { resident: '13900139661', otherResident: '13900139662' };

/** A resident's cookie session (password sign-in), as headers. */
async function residentSession(who: Who): Promise<Record<string, string>> {
  const { identity, authConfig } = server.services;
  const s = await identity.loginWithPassword({ phone: PHONES[who]!, password: PASSWORD }, '10.9.200.1');
  return {
    cookie: `${sessionCookieName(authConfig.cookieSecure)}=${s.sessionId}`,
    'x-csrf-token': s.csrfToken,
  };
}

/** The agent part of an application filed under `ref`. */
function agentBlock(ref: string) {
  return { kind: 'village_agent', name: '矩阵代办员', authorizationRef: ref };
}

/** The answer in the matrix's notation: `status`, `status code`, or `status items=n`. */
function notation(expected: string, got: { status: number; body: Answer }): string {
  const [, detail] = expected.split(' ');
  if (!detail) return String(got.status);
  if (detail.startsWith('items=')) return `${got.status} items=${got.body.items?.length}`;
  return `${got.status} ${got.body.error?.code}`;
}

/** Creates a staff account bound to a hall or department, with one grant (bootstrap path), signed in. */
async function staff(
  name: string,
  bind: { hallCode?: string; departmentId?: string },
  grant: { role: string; kind: 'division' | 'hall' | 'department'; value: string } | null,
  scopes: readonly string[] = API_SCOPES,
): Promise<{ accountId: string; token: string }> {
  const { identity } = server.services;
  const username = `m-${name}`;
  const account =
    accounts[name] ??
    (await identity.createStaff({ name: `矩阵${name}`, username, password: PASSWORD, ...bind })).id;
  accounts[name] = account;
  if (grant)
    await identity.grants.grantFromCli(
      {
        accountId: account,
        role: grant.role,
        scope: { kind: grant.kind, value: grant.value },
        validUntil: new Date(Date.now() + 365 * 86_400_000),
        reason: '矩阵测试',
      } as never,
      'matrix',
    );
  const session = await identity.loginWithPassword(
    { username, password: PASSWORD },
    `10.9.${Object.keys(accounts).length}.1`,
  );
  const t = await identity.createApiToken(session.principal, {
    name: `matrix ${name}`,
    scopes: [...scopes],
    expiresInDays: 30,
  });
  return { accountId: account, token: t.token };
}

beforeAll(async () => {
  server = await startTestServer({ clock });
  const { departments } = server.services;
  weiningDept = (await departments.findDepartment('520526', 'civil_affairs'))!.id;
  kailiDept = (await departments.findDepartment('522601', 'civil_affairs'))!.id;
  otherDept = (await departments.findDepartment('520102', 'civil_affairs'))!.id;
  consultedDept = (await departments.findDepartment('520526', 'public_security'))!.id;
  const setups: [
    Who,
    { hallCode?: string; departmentId?: string },
    { role: string; kind: 'division' | 'hall' | 'department'; value: string },
  ][] = [
    ['kailiClerk', { hallCode: KAILI_HALL }, { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL }],
    ['guiyangClerk', { hallCode: GUIYANG_HALL }, { role: 'intake_clerk', kind: 'hall', value: GUIYANG_HALL }],
    [
      'weiningOfficer',
      { departmentId: weiningDept },
      { role: 'acceptance_officer', kind: 'department', value: weiningDept },
    ],
    [
      'otherOfficer',
      { departmentId: otherDept },
      { role: 'acceptance_officer', kind: 'department', value: otherDept },
    ],
    [
      'weiningApprover',
      { departmentId: weiningDept },
      { role: 'approver', kind: 'department', value: weiningDept },
    ],
    [
      'weiningAdmin',
      { departmentId: weiningDept },
      { role: 'county_admin', kind: 'division', value: '520526' },
    ],
    ['qdnAdmin', { hallCode: KAILI_HALL }, { role: 'prefecture_admin', kind: 'division', value: '5226' }],
    ['gyAdmin', { hallCode: GUIYANG_HALL }, { role: 'prefecture_admin', kind: 'division', value: '5201' }],
    ['auditor', { hallCode: GUIYANG_HALL }, { role: 'auditor', kind: 'division', value: '52' }],
    ['countyAuditor', { hallCode: KAILI_HALL }, { role: 'auditor', kind: 'division', value: '5226' }],
    ['villageAgent', { hallCode: KAILI_HALL }, { role: 'village_agent', kind: 'hall', value: KAILI_HALL }],
    ['helperNoAuth', { hallCode: KAILI_HALL }, { role: 'helper', kind: 'hall', value: KAILI_HALL }],
    ['outAgent', { hallCode: GUIYANG_HALL }, { role: 'village_agent', kind: 'hall', value: GUIYANG_HALL }],
  ];
  for (const [who, bind, grant] of setups) tokens[who] = (await staff(who, bind, grant)).token;
  tokens.kailiReadOnly = (await staff('kailiClerk', {}, null, ['cases:read'])).token;
  // a new clerk at the 凯里 hall, for granting; and a grant of theirs to revoke
  accounts.kailiNew = (
    await server.services.identity.createStaff({
      name: '新收件员',
      username: 'm-kailiNew',
      password: PASSWORD,
      hallCode: KAILI_HALL,
    })
  ).id;
  accounts.toDisable = (
    await server.services.identity.createStaff({
      name: '待停用',
      username: 'm-toDisable',
      password: PASSWORD,
      hallCode: KAILI_HALL,
    })
  ).id;
  revocableGrantId = (
    await server.services.identity.grants.grantFromCli(
      {
        accountId: accounts.kailiNew,
        role: 'helper',
        scope: { kind: 'hall', value: KAILI_HALL },
        validUntil: new Date(Date.now() + 30 * 86_400_000),
        reason: '帮办',
      } as never,
      'matrix',
    )
  ).id;

  // two residents (signed in), and an authorization another agent recorded for the first (pending her
  // in-app consent)
  residentIdNumber = syntheticIdNumber('522601', '19850505', '661');
  otherResidentIdNumber = syntheticIdNumber('522601', '19860606', '662');
  for (const [who, idNumber] of [
    ['resident', residentIdNumber],
    ['otherResident', otherResidentIdNumber],
  ] as const) {
    accounts[who] = (
      await server.services.identity.registerResident({
        name: '矩阵居民',
        idNumber,
        phone: PHONES[who]!,
        password: PASSWORD,
      })
    ).id;
    sessions[who] = await residentSession(who);
  }
  for (const period of ['2026-06-29', '2026-06-30']) {
    const { alert } = await server.services.warnings.raise({
      rule: 'overdue_spike',
      severity: 'warning',
      divisionCode: '522601',
      period,
      title: '凯里市 超期办件 12 件（矩阵）',
    });
    if (period === '2026-06-29') alertToAcknowledge = alert.id;
    else alertToResolve = alert.id;
  }
  agentAuthorizationId = (
    await server.services.identity.authorizations.create(
      principalFromDevActor({ kind: 'agent', id: 'matrix-village-agent' }),
      {
        resident: { accountId: accounts.resident! },
        validUntil: new Date(Date.now() + 30 * 86_400_000),
        evidence: { kind: 'in_app' },
      },
    )
  ).id;

  // villageAgent's authorizations (signed forms, active at once): from each resident
  for (const [resident, set] of [
    ['resident', (id: string) => (authorizationForResident = id)],
    ['otherResident', (id: string) => (authorizationForOther = id)],
  ] as const) {
    const a = await call('villageAgent', {
      method: 'POST',
      url: () => '/api/v1/agent-authorizations',
      body: () => ({
        resident: { accountId: accounts[resident] },
        itemCodes: ['050004001000'],
        validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        evidence: { kind: 'signed_form', sm3: sm3Hex(SIGNED_FORM), reference: `委托书-矩阵-${resident}` },
      }),
      expect: {},
    });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    // in force once the scan whose digest was recorded is uploaded
    const up = await call('villageAgent', {
      method: 'PUT',
      url: () => `/api/v1/agent-authorizations/${a.body.id}/signed-form`,
      raw: { bytes: SIGNED_FORM, type: 'application/pdf' },
      expect: {},
    });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    set(a.body.id!);
  }

  // the case: filed at the 凯里 hall window by the village agent for the resident (帮办代办), for 威宁,
  // forwarded by the intake clerk to the competent 威宁 bureau
  idA = residentIdNumber;
  const filed = await call('villageAgent', {
    method: 'POST',
    url: () => '/api/v1/cases',
    body: () => ({ ...submission(idA), agent: agentBlock(authorizationForResident) }),
    expect: {},
  });
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
  caseNumber = filed.body.case!.number;
  caseId = filed.body.case!.id;
  materialSeq = filed.body.case!.materials[0]?.seq ?? 1;
  const fwd = await call('kailiClerk', {
    method: 'POST',
    url: () => `/api/v1/cases/${caseNumber}/commands`,
    body: () => ({ type: 'forward' }),
    expect: {},
  });
  expect(fwd.status, JSON.stringify(fwd.body)).toBe(200);
  const d = await call('weiningAdmin', { ...ROWS['POST /api/v1/delegations']!, expect: {} });
  expect(d.status, JSON.stringify(d.body)).toBe(201);
  delegationId = d.body.id!;
  // 一线反馈: the 凯里 clerk reports a problem about the case (one she sees)
  const fb = await call('kailiClerk', {
    method: 'POST',
    url: () => '/api/v1/feedback',
    body: () => ({ category: 'coordination', summary: '威宁材料退回', screen: '/inbox', caseNumber }),
    expect: {},
  });
  expect(fb.status, JSON.stringify(fb.body)).toBe(201);
  feedbackId = fb.body.id!;
});
afterAll(async () => {
  await server?.close();
});

describe('authorization matrix: every route × roles in and out of scope', () => {
  it('has a row for every route of the app (no endpoint without a policy)', () => {
    const routes = [...new Set(registeredRoutes(server.app))].sort();
    expect(routes.length).toBeGreaterThan(50);
    expect(routes.filter((r) => !(r in ROWS))).toEqual([]);
    expect(Object.keys(ROWS).filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('answers every cell with the exact status', async () => {
    const diffs: string[] = [];
    let cells = 0;
    for (const [route, row] of Object.entries(ROWS)) {
      for (const who of PRINCIPALS) {
        const expected = row.expect[who] ?? row.expect.default;
        if (expected === undefined) throw new Error(`${route}: no expectation for ${who}`);
        const got = await call(who, row);
        cells++;
        const answer = notation(expected, got);
        if (answer !== expected)
          diffs.push(
            `${route} as ${who}: expected ${expected}, got ${answer} ${JSON.stringify(got.body).slice(0, 160)}`,
          );
      }
    }
    expect(diffs).toEqual([]);
    expect(cells).toBe(Object.keys(ROWS).length * PRINCIPALS.length);
    // ~1,800 requests in one test: past the default 60 s on a loaded 2-core machine
  }, 240_000);
});

describe('grants over time', () => {
  it('works on the next request without a new sign-in, ends at its expiry, and a revocation is immediate', async () => {
    const { identity } = server.services;
    const name = 'lateClerk';
    const { token, accountId } = await staff(name, { hallCode: KAILI_HALL }, null);
    const read = () =>
      server.app.inject({
        method: 'GET',
        url: `/api/v1/cases/${caseNumber}`,
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await read()).statusCode).toBe(404);
    // the 黔东南 administrator grants intake_clerk over the 凯里 hall for one hour, through the API
    const granted = await server.app.inject({
      method: 'POST',
      url: '/api/v1/grants',
      headers: { authorization: `Bearer ${tokens.qdnAdmin}` },
      payload: {
        accountId,
        role: 'intake_clerk',
        scope: { kind: 'hall', value: KAILI_HALL },
        validUntil: new Date(clock().getTime() + 3_600_000).toISOString(),
        reason: '临时顶岗',
      },
    });
    expect(granted.statusCode, granted.body).toBe(201);
    expect((await read()).statusCode).toBe(200); // same token, next request
    offsetMs += 3_600_000 + 1_000; // past validUntil
    expect((await read()).statusCode).toBe(404);
    offsetMs = 0;
    expect((await read()).statusCode).toBe(200);
    const revoked = await server.app.inject({
      method: 'DELETE',
      url: `/api/v1/grants/${granted.json().id}?reason=${encodeURIComponent('顶岗结束')}`,
      headers: { authorization: `Bearer ${tokens.qdnAdmin}` },
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect((await read()).statusCode).toBe(404);
    expect(await identity.grants.grantsOf(accountId)).toEqual([]);
  });

  it('refuses an administrator granting beyond their own grant (403 naming the field, nothing written)', async () => {
    const count = async () =>
      Number(
        (
          (await server.database.db.execute(
            sql`select count(*)::int as n from identity_grants`,
          )) as unknown as {
            rows: { n: number }[];
          }
        ).rows[0]!.n,
      );
    const before = await count();
    const attempt = async (payload: Record<string, unknown>) =>
      server.app.inject({
        method: 'POST',
        url: '/api/v1/grants',
        headers: { authorization: `Bearer ${tokens.qdnAdmin}` },
        payload: {
          accountId: accounts.kailiNew,
          validUntil: new Date(Date.now() + 86_400_000).toISOString(),
          reason: '越权尝试',
          ...payload,
        },
      });
    // a higher role than their own (province admin, auditor)
    for (const role of ['province_admin', 'auditor']) {
      const r = await attempt({ role, scope: { kind: 'hall', value: KAILI_HALL } });
      expect([role, r.statusCode, r.json().error.code, r.json().error.field]).toEqual([
        role,
        403,
        'grant.exceeds_own',
        'role',
      ]);
    }
    // a scope beyond theirs (the whole province) for a role they may give
    const wide = await attempt({ role: 'intake_clerk', scope: { kind: 'division', value: '52' } });
    expect([wide.statusCode, wide.json().error.code, wide.json().error.field]).toEqual([
      403,
      'grant.exceeds_own',
      'scope',
    ]);
    // longer than their own grant
    const long = await attempt({
      role: 'intake_clerk',
      scope: { kind: 'hall', value: KAILI_HALL },
      validUntil: new Date(Date.now() + 2 * 365 * 86_400_000).toISOString(),
    });
    expect([long.statusCode, long.json().error.field]).toEqual([403, 'validUntil']);
    // the development header holds every role over its place, but never hands out real grants
    const dev = await server.app.inject({
      method: 'POST',
      url: '/api/v1/grants',
      headers: { 'x-tongban-actor': 'staff:dev-admin' },
      payload: {
        accountId: accounts.kailiNew,
        role: 'intake_clerk',
        scope: { kind: 'hall', value: KAILI_HALL },
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
        reason: '开发头',
      },
    });
    expect([dev.statusCode, dev.json().error.code]).toEqual([403, 'grant.dev_actor']);
    expect(await count()).toBe(before);
  });
});

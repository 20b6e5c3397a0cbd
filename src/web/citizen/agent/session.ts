/**
 * 代办员 (village agent) sign-in on the phone: a staff account holding the role 村级代办员 `village_agent`
 * (or 帮办员 `helper`) in force signs in with username and password (`POST /api/v1/auth/login/password`).
 * The server keeps the session in its httpOnly cookie; this module keeps a local copy of who signed in
 * (name, hall) in localStorage, so that the agent screens work with the network off for days — only the
 * sign-in itself needs the network. The server still decides every request (the outbox sends them later
 * under the same cookie); a session that ended meanwhile shows up as `expired` when the network returns.
 * The CSRF token is the page's one (../api/account.ts: set at sign-in, fetched again after a reload only
 * when needed), the same the outbox and the resident screens send.
 */
import { reactive } from 'vue';
import { request, setCsrfToken } from '../api/account.ts';
import { ApiError } from '../api.ts';
import { sessionChanged } from '../session.ts';

/** The agent as remembered on the device (no password, no token). */
export interface AgentIdentity {
  accountId: string;
  username: string;
  /** 代办员姓名 as the account has it */
  name: string;
  /** the hall the agent files at (收件地: intakeHallCode), e.g. 522601-zwfw */
  hallCode: string;
  /** its name when known (fetched once at sign-in), for display */
  hallName: string | null;
  /** the agent role in force: 村级代办员 or 帮办员 (hall helper) */
  role: 'village_agent' | 'helper';
  /** ISO time of the sign-in */
  signedInAt: string;
}

interface AgentSessionState {
  agent: AgentIdentity | null;
  /** the server said the session ended (401): sign in again before the queue can be sent */
  expired: boolean;
}

const STORAGE_KEY = 'tongban.agent';
const AGENT_ROLES = ['village_agent', 'helper'] as const;

function remembered(): AgentIdentity | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const a = JSON.parse(raw) as Partial<AgentIdentity>;
    return typeof a.accountId === 'string' && typeof a.name === 'string' && typeof a.hallCode === 'string'
      ? (a as AgentIdentity)
      : null;
  } catch {
    return null;
  }
}

/** The signed-in agent (restored from the device at start), reactive. */
export const agentSession = reactive<AgentSessionState>({
  agent: remembered(),
  expired: false,
});

function remember(a: AgentIdentity | null): void {
  agentSession.agent = a;
  try {
    if (a) localStorage.setItem(STORAGE_KEY, JSON.stringify(a));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the agent stays signed in for this visit only
  }
}

/**
 * One call with the page's cookie session and CSRF token (../api/account.ts `request`: a token renewed in
 * another tab is renewed here too); a 401 is an answer here (the agent screens show `expired`).
 * `anonymous`: before any session (sign-in). @throws ApiError, status 0 `network` without an answer.
 */
function call<T>(method: string, path: string, body?: unknown, anonymous = false): Promise<T> {
  return request<T>(method, path, { ...(body !== undefined ? { body } : {}), quiet401: true, anonymous });
}

interface Me {
  account: { id: string; name: string; username: string | null; hallCode: string | null };
  principal: { kind: string; hallCode?: string; restricted?: boolean };
}
interface GrantRow {
  role: string;
  scope: { kind: string; value: string };
  validFrom: string;
  validUntil: string;
  revokedAt: string | null;
}

/** Why a signed-in account cannot act as an agent here (thrown as ApiError 403 with this code). */
export const NOT_AGENT = 'agent.not_agent';

/** The agent role in force and the hall it files at, or null when the account holds none. */
export function agentGrant(
  grants: readonly GrantRow[],
  accountHall: string | null,
  now = Date.now(),
): { role: AgentIdentity['role']; hallCode: string } | null {
  const inForce = grants.filter(
    (g) =>
      (AGENT_ROLES as readonly string[]).includes(g.role) &&
      !g.revokedAt &&
      Date.parse(g.validFrom) <= now &&
      Date.parse(g.validUntil) > now,
  );
  const g = inForce.find((x) => x.role === 'village_agent') ?? inForce[0];
  if (!g) return null;
  const hallCode = accountHall ?? (g.scope.kind === 'hall' ? g.scope.value : null);
  return hallCode ? { role: g.role as AgentIdentity['role'], hallCode } : null;
}

async function loadIdentity(): Promise<AgentIdentity> {
  const me = await call<Me>('GET', '/api/v1/auth/me');
  if (me.principal.kind !== 'staff' || me.principal.restricted)
    throw new ApiError(403, NOT_AGENT, 'This account is not a staff account.');
  const { items } = await call<{ items: GrantRow[] }>(
    'GET',
    `/api/v1/accounts/${encodeURIComponent(me.account.id)}/grants`,
  );
  const grant = agentGrant(items, me.account.hallCode ?? me.principal.hallCode ?? null);
  if (!grant)
    throw new ApiError(403, NOT_AGENT, 'The account holds no 村级代办员 / 帮办员 role in force at a hall.');
  let hallName: string | null = null;
  try {
    hallName = (await call<{ name: string }>('GET', `/api/v1/halls/${encodeURIComponent(grant.hallCode)}`))
      .name;
  } catch {
    // shown by its code
  }
  return {
    accountId: me.account.id,
    username: me.account.username ?? '',
    name: me.account.name,
    hallCode: grant.hallCode,
    hallName,
    role: grant.role,
    signedInAt: new Date().toISOString(),
  };
}

/**
 * Signs in with username and password (TOTP when the account has one) and checks that the account acts
 * as an agent at a hall. On success the identity is remembered on the device.
 * @throws ApiError: `network` (status 0), 401 `auth.invalid_credentials` / `auth.totp_required` /
 *   `auth.totp_invalid`, 429 `auth.locked`, 403 {@link NOT_AGENT} (signed out again at once).
 */
export async function signInAgent(input: {
  username: string;
  password: string;
  totp?: string;
}): Promise<AgentIdentity> {
  const grant = await call<{ csrfToken: string }>(
    'POST',
    '/api/v1/auth/login/password',
    {
      username: input.username.trim(),
      password: input.password,
      ...(input.totp ? { totp: input.totp.trim() } : {}),
    },
    true,
  );
  // the server replaced whatever session the browser had (a resident's too): one token, one session
  setCsrfToken(grant.csrfToken);
  sessionChanged();
  try {
    const identity = await loadIdentity();
    remember(identity);
    agentSession.expired = false;
    return identity;
  } catch (e) {
    if (e instanceof ApiError && e.code === NOT_AGENT) await signOutAgent();
    throw e;
  }
}

/**
 * On opening the agent screens: when online, checks that the cookie session still belongs to the
 * remembered agent (sets `expired` when the server says 401, keeps the local copy either way); offline
 * it trusts the local copy. Never throws.
 */
export async function checkAgentSession(): Promise<void> {
  if (!agentSession.agent || (typeof navigator !== 'undefined' && navigator.onLine === false)) return;
  try {
    const me = await call<Me>('GET', '/api/v1/auth/me');
    agentSession.expired = me.account.id !== agentSession.agent.accountId;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) agentSession.expired = true;
  }
}

/** Signs out on the server (best effort) and forgets the agent on this device. */
export async function signOutAgent(): Promise<void> {
  try {
    await call<void>('POST', '/api/v1/auth/logout');
  } catch {
    // offline or already ended: the cookie dies with its session
  }
  setCsrfToken(null);
  sessionChanged();
  agentSession.expired = false;
  remember(null);
}

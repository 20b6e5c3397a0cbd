/**
 * 代办员 (village agent) sign-in on the phone: a staff account holding the role 村级代办员 `village_agent`
 * (or 帮办员 `helper`) in force signs in with username and password (`POST /api/v1/auth/login/password`).
 * The server keeps the session in its httpOnly cookie; this module keeps a local copy of who signed in
 * (name, hall) in localStorage, so that the agent screens work with the network off for days — only the
 * sign-in itself needs the network. The server still decides every request (the outbox sends them later
 * under the same cookie); a session that ended meanwhile shows up as `expired` when the network returns.
 *
 * CSRF: the token the sign-in answers is kept in memory ({@link csrfToken}); on sign-in this module makes
 * the outbox send it (`setRequestHeaders`, offline/outbox.ts), and on sign-out it hands the outbox back to
 * its built-in fallback (which asks `GET /api/v1/auth/csrf-token` itself after a 403). After a reload
 * the token is gone and the fallback serves the remembered agent's queue.
 */
import { reactive } from 'vue';
import { ApiError } from '../api.ts';
import { setRequestHeaders } from '../offline/outbox.ts';

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
  /** CSRF token of this page's session (memory only; a reload fetches a new one when online) */
  csrfToken: string | null;
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
  csrfToken: null,
});

/**
 * The CSRF token of the agent's session as this page holds it (from the sign-in, or fetched for the
 * sign-out), or null — e.g. after a reload. Sent as `X-CSRF-Token` on every mutation of the session.
 */
export function csrfToken(): string | null {
  return agentSession.csrfToken;
}

/** Whether the outbox sends {@link csrfToken} (installed at sign-in by this module). */
let outboxHeadersInstalled = false;

function sendTokenWithOutbox(): void {
  setRequestHeaders((): Record<string, string> => {
    const token = csrfToken();
    return token ? { 'x-csrf-token': token } : {};
  });
  outboxHeadersInstalled = true;
}

function remember(a: AgentIdentity | null): void {
  agentSession.agent = a;
  try {
    if (a) localStorage.setItem(STORAGE_KEY, JSON.stringify(a));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the agent stays signed in for this visit only
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && agentSession.csrfToken) headers['x-csrf-token'] = agentSession.csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) {
    let code = `http.${res.status}`;
    let message = res.statusText;
    let field: string | null = null;
    try {
      const b = (await res.json()) as { error?: { code?: string; message?: string; field?: string | null } };
      code = b.error?.code ?? code;
      message = b.error?.message ?? message;
      field = b.error?.field ?? null;
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, code, message, field);
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
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
 * as an agent at a hall. On success the identity is remembered on the device, and the outbox sends this
 * session's CSRF token from then on.
 * @throws ApiError: `network` (status 0), 401 `auth.invalid_credentials` / `auth.totp_required` /
 *   `auth.totp_invalid`, 429 `auth.locked`, 403 {@link NOT_AGENT} (signed out again at once).
 */
export async function signInAgent(input: {
  username: string;
  password: string;
  totp?: string;
}): Promise<AgentIdentity> {
  const grant = await call<{ csrfToken: string }>('POST', '/api/v1/auth/login/password', {
    username: input.username.trim(),
    password: input.password,
    ...(input.totp ? { totp: input.totp.trim() } : {}),
  });
  agentSession.csrfToken = grant.csrfToken;
  try {
    const identity = await loadIdentity();
    remember(identity);
    agentSession.expired = false;
    sendTokenWithOutbox();
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
    if (!agentSession.csrfToken)
      agentSession.csrfToken = (
        await call<{ csrfToken: string }>('GET', '/api/v1/auth/csrf-token')
      ).csrfToken;
    await call<void>('POST', '/api/v1/auth/logout');
  } catch {
    // offline or already ended: the cookie dies with its session
  }
  agentSession.csrfToken = null;
  agentSession.expired = false;
  remember(null);
  if (outboxHeadersInstalled) {
    setRequestHeaders(null);
    outboxHeadersInstalled = false;
  }
}

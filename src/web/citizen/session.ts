/**
 * Who is signed in to the citizen app: a resident (居民), a village agent or hall helper (村级代办员 /
 * 帮办员: a staff account with that role in force), or nobody. The session itself is the server's
 * cookie; this module keeps what the page needs — the account (ID number and phone masked), the CSRF
 * token (in ./api/account.ts) — and sends people to sign-in when a view needs it.
 *
 * On first use it asks the server whether the browser still holds a session (`GET
 * /api/v1/auth/csrf-token` through `ensureCsrfToken`, which also issues this page's CSRF token, unless
 * the page already holds one), then `GET /api/v1/auth/me`. The token is the page's one CSRF source: the
 * outbox (wired in main.ts) and the village agent's session (agent/session.ts) send the same.
 */
import { computed, reactive } from 'vue';
import type { Router } from 'vue-router';
import {
  type Account,
  account as accountApi,
  ensureCsrfToken,
  type Grant,
  type Me,
  onSessionEnded,
  type Principal,
  type SessionGrant,
  setCsrfToken,
} from './api/account.ts';
import { onConnectivityChange } from './offline/network.ts';

/** resident: a 居民 account; village_agent: staff with helper / village_agent in force; none: signed out. */
export type Who = 'resident' | 'village_agent' | 'none';

interface SessionState {
  /** `unknown` until the server was asked once */
  checked: boolean;
  account: Account | null;
  principal: Principal | null;
  /** the agent roles in force (staff only) */
  agentRoles: string[];
  /**
   * The phone number typed at sign-in, in full, for this page's life only (the server shows it masked):
   * prefills the contact phone of an application.
   */
  phone: string | null;
  /** why the last session ended (shown on the sign-in page) */
  endedReason: 'expired' | null;
}

export const session = reactive<SessionState>({
  checked: false,
  account: null,
  principal: null,
  agentRoles: [],
  phone: null,
  endedReason: null,
});

const AGENT_ROLES = ['village_agent', 'helper'];

/** Who the signed-in user is (see {@link Who}). */
export const who = computed<Who>(() => {
  const p = session.principal;
  if (!p || p.restricted) return 'none';
  if (p.kind === 'resident' || p.kind === 'legal_person_operator') return 'resident';
  return session.agentRoles.length > 0 ? 'village_agent' : 'none';
});

export const signedIn = computed(() => who.value !== 'none');

/**
 * The inbox recipient of the signed-in resident (`applicant:<account id>`), or null. A legal person's
 * operator reads the legal person's inbox.
 */
export const inboxRecipient = computed(() => {
  const p = session.principal;
  if (!p || who.value !== 'resident') return null;
  return `applicant:${p.kind === 'legal_person_operator' && p.legalPersonId ? p.legalPersonId : p.accountId}`;
});

function inForce(g: Grant, now: number): boolean {
  return !g.revokedAt && Date.parse(g.validFrom) <= now && Date.parse(g.validUntil) > now;
}

async function load(me: Me): Promise<void> {
  let roles: string[] = [];
  if (me.principal.kind === 'staff' && !me.principal.restricted) {
    const now = Date.now();
    const { items } = await accountApi.grantsOf(me.account.id);
    roles = [
      ...new Set(items.filter((g) => inForce(g, now) && AGENT_ROLES.includes(g.role)).map((g) => g.role)),
    ];
  }
  session.account = me.account;
  session.principal = me.principal;
  session.agentRoles = roles;
  session.checked = true;
  rememberResident(me.principal.kind === 'staff' ? null : { account: me.account, principal: me.principal });
}

/**
 * The signed-in resident as last confirmed by the server (masked account + principal; no token, no
 * cookie), kept in localStorage so that with no network — even after a reload — the app still knows who
 * the user is: applications can be prepared and queued, and the outbox sends them under the session
 * cookie once the network returns (a session that ended meanwhile is answered 401 then, and the user
 * signs in again). Cleared on sign-out and whenever the server says there is no session.
 */
const REMEMBER_KEY = 'tongban.resident';

function rememberResident(r: { account: Account; principal: Principal } | null): void {
  try {
    if (r) localStorage.setItem(REMEMBER_KEY, JSON.stringify(r));
    else localStorage.removeItem(REMEMBER_KEY);
  } catch {
    // storage disabled: offline, the app will ask for sign-in
  }
}

function rememberedResident(): { account: Account; principal: Principal } | null {
  try {
    const raw = localStorage.getItem(REMEMBER_KEY);
    return raw ? (JSON.parse(raw) as { account: Account; principal: Principal }) : null;
  } catch {
    return null;
  }
}

/** Forgets the session in the page (signed out, or the server says it ended). */
export function clearSession(reason: SessionState['endedReason'] = null): void {
  session.account = null;
  session.principal = null;
  session.agentRoles = [];
  session.phone = null;
  session.endedReason = reason;
  session.checked = true;
  setCsrfToken(null);
  rememberResident(null);
}

/**
 * The server's session changed under this page (the village agent signed in or out in agent mode): the
 * page asks the server again on the next {@link ensureSession}. The CSRF token stays as the new session
 * set it.
 */
export function sessionChanged(): void {
  session.checked = false;
  session.account = null;
  session.principal = null;
  session.agentRoles = [];
  session.phone = null;
}

let checking: Promise<void> | null = null;

/**
 * Resolves once the page knows whether a session exists (asks the server the first time only; a
 * network failure leaves it unknown so the next call asks again). Never throws.
 */
export function ensureSession(): Promise<void> {
  if (session.checked) return Promise.resolve();
  checking ??= (async () => {
    try {
      // the page's one CSRF source (./api/account.ts): asks the server only when the page holds none
      if ((await ensureCsrfToken()) === null) {
        clearSession();
        return;
      }
      await load(await accountApi.me());
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status !== 0) clearSession();
      else if (!session.principal) {
        // no network: the resident last confirmed on this device (asked again once the network is back)
        const r = rememberedResident();
        if (r) {
          session.account = r.account;
          session.principal = r.principal;
        }
      }
    } finally {
      checking = null;
    }
  })();
  return checking;
}

/** After a successful sign-in (SMS code): keeps the CSRF token and loads the account. */
export async function started(grant: SessionGrant, phone: string | null = null): Promise<void> {
  setCsrfToken(grant.csrfToken);
  session.endedReason = null;
  await load(await accountApi.me());
  session.phone = phone;
}

/** Signs out on the server (best effort: the page forgets the session either way). */
export async function signOut(): Promise<void> {
  try {
    await accountApi.signOut();
  } catch {
    // offline or already ended: the cookie is cleared on the next sign-in
  }
  clearSession();
}

/**
 * Installs the guard of `meta.signIn` routes: without a session they go to `/login?next=<the route>`;
 * after a 401 from the API the current such view goes there too, with the reason shown.
 */
export function installSignInGuard(router: Router): void {
  // back online: confirm with the server who is signed in (the remembered resident, or nobody)
  onConnectivityChange((up) => {
    if (up && !session.checked) void ensureSession();
  });
  router.beforeEach(async (to) => {
    if (!to.meta.signIn) return true;
    await ensureSession();
    if (signedIn.value) return true;
    return { name: 'login', query: { next: to.fullPath } };
  });
  onSessionEnded(() => {
    const wasSignedIn = signedIn.value;
    clearSession(wasSignedIn ? 'expired' : null);
    const current = router.currentRoute.value;
    if (current.meta.signIn) void router.replace({ name: 'login', query: { next: current.fullPath } });
  });
}

/** A `next` query value that is safe to go to after sign-in: an in-app path, never another site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : '/me';
}

/**
 * The signed-in staff member: account, principal and grants in force, and what follows from them —
 * the departments whose inbox they read, the halls whose intake they handle, which actions their roles
 * allow (src/domain/roles.ts, the same table the server decides with). The server still decides every
 * request; this only chooses what to show.
 */
import { computed, reactive } from 'vue';
import { type Action, roleAllows } from '../../domain/roles.ts';
import { api } from './api/client.ts';
import { type ApiError, setCsrfToken } from './api/http.ts';
import type { Account, Grant, Principal, Session } from './api/types.ts';

interface SessionState {
  account: Account | null;
  principal: Principal | null;
  grants: Grant[];
  /** Why the last session ended (shown on the sign-in page), e.g. 会话超时. */
  endedReason: string | null;
}

export const session = reactive<SessionState>({
  account: null,
  principal: null,
  grants: [],
  endedReason: null,
});

export const signedIn = computed(() => session.principal !== null && !session.principal.restricted);

/** Grants in force now. */
function inForce(): Grant[] {
  const now = Date.now();
  return session.grants.filter(
    (g) => !g.revokedAt && Date.parse(g.validFrom) <= now && Date.parse(g.validUntil) > now,
  );
}

/** Whether any grant in force allows `action` (on some place). */
export function can(action: Action): boolean {
  return inForce().some((g) => roleAllows(g.role, action));
}

/** Departments whose inbox the staff member reads: department grants, and the account's own department. */
export const myDepartmentIds = computed(() => {
  const ids = new Set<string>();
  for (const g of inForce())
    if (g.scope.kind === 'department' && roleAllows(g.role, 'case.read')) ids.add(g.scope.value);
  if (session.principal?.departmentId) ids.add(session.principal.departmentId);
  return [...ids];
});

/** Halls whose intake list the staff member handles: hall grants, and the account's own hall. */
export const myHallCodes = computed(() => {
  const codes = new Set<string>();
  for (const g of inForce())
    if (g.scope.kind === 'hall' && roleAllows(g.role, 'case.read')) codes.add(g.scope.value);
  if (session.principal?.hallCode) codes.add(session.principal.hallCode);
  return [...codes];
});

/** Whether the staff member holds an administrator role (the admin menu). */
export const isAdministrator = computed(() =>
  inForce().some((g) =>
    ['hall_admin', 'county_admin', 'prefecture_admin', 'province_admin'].includes(g.role),
  ),
);

/** Whether the staff member files applications for residents (帮办员 / 村级代办员). */
export const isAgent = computed(() =>
  inForce().some((g) => g.role === 'helper' || g.role === 'village_agent'),
);

async function loadAccount(): Promise<void> {
  const me = await api.me();
  session.account = me.account;
  session.principal = me.principal;
  session.grants = me.principal.restricted ? [] : (await api.grantsOf(me.account.id)).items;
}

/** After sign-in: keep the CSRF token and load the account and grants. */
export async function started(grant: Session): Promise<void> {
  setCsrfToken(grant.csrfToken);
  session.endedReason = null;
  await loadAccount();
}

/**
 * On page load: a session cookie from before the reload is picked up again (a new CSRF token is issued,
 * the old one is not kept in the page). Resolves false when there is no session.
 */
export async function restore(): Promise<boolean> {
  try {
    const { csrfToken } = await api.csrfToken();
    setCsrfToken(csrfToken);
    await loadAccount();
    return true;
  } catch {
    clear();
    return false;
  }
}

/** Forgets the session in the page (after sign-out, or when the server says it ended). */
export function clear(reason: string | null = null): void {
  session.account = null;
  session.principal = null;
  session.grants = [];
  session.endedReason = reason;
  setCsrfToken(null);
}

/** Signs out on the server (best effort) and forgets the session. */
export async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } catch (e) {
    void (e as ApiError);
  }
  clear();
}

import type { CaseActor } from '../../../domain/case-state.ts';
import { type Grant, ROLES, type Role, type Scope } from '../../../domain/roles.ts';

/**
 * Who is calling, as resolved by the `authenticate` hook (./plugin.ts) and set on `request.principal`.
 * - `resident` — a resident signed in (SMS code, password, or the province's identity platform);
 * - `legal_person_operator` — a resident acting for a legal person they are an authorised operator of
 *   (`legalPersonId`), after `POST /api/v1/auth/act-as`;
 * - `staff` — a staff member (session, or an API token created by them: `via: 'api_token'`, `scopes`).
 */
export interface Principal {
  accountId: string;
  kind: 'resident' | 'legal_person_operator' | 'staff';
  /** How the caller was authenticated. `dev_header` only with DEV_ACTOR_HEADER (development). */
  via: 'session' | 'api_token' | 'dev_header';
  name?: string;
  departmentId?: string;
  hallCode?: string;
  /** The legal person acted for (kind `legal_person_operator`). */
  legalPersonId?: string;
  /** Administrator flag of the account: TOTP is mandatory (what an admin may do comes from `grants`). */
  isAdmin: boolean;
  /**
   * Staff: the grants in force (role × scope × items × validity), loaded afresh on EVERY request from the
   * database — a grant works on the next request and a revocation at once, without signing in again.
   * Residents: empty.
   */
  grants: Grant[];
  /** Development header only: the actor exactly as declared (keeps `agent`, which has no account kind). */
  devActor?: CaseActor;
  /** A second factor (TOTP) was passed in this session. */
  mfa: boolean;
  /** API tokens only: what the token may do. Sessions and dev principals: undefined (no scope limit). */
  scopes?: string[];
  /** API tokens only. */
  tokenId?: string;
  /** Sessions only: an admin who has not enrolled TOTP yet may only enrol it, see `me` and sign out. */
  restricted?: boolean;
}

/**
 * Maps a principal to the case engine's actor (src/domain/case-state.ts), so case routes can switch from
 * the `X-Tongban-Actor` header to the signed-in user: residents and legal-person operators act as
 * `applicant` (the operator with the legal person's id), staff as `staff` with department and hall.
 */
export function principalToCaseActor(p: Principal): CaseActor {
  if (p.devActor) return p.devActor;
  if (p.kind === 'staff') {
    return {
      kind: 'staff',
      id: p.accountId,
      ...(p.departmentId ? { departmentId: p.departmentId } : {}),
      ...(p.hallCode ? { hallCode: p.hallCode } : {}),
    };
  }
  return { kind: 'applicant', id: p.kind === 'legal_person_operator' ? p.legalPersonId! : p.accountId };
}

/** Staff roles a development actor holds: every role (it may not manage grants: 403 `grant.dev_actor`). */
const DEV_ROLES: readonly Role[] = ROLES;
const DEV_UNTIL = new Date('9999-12-31T00:00:00Z');
const DEV_FROM = new Date(0);

/**
 * The principal the development header stands for (`X-Tongban-Actor`, parsed by src/server/http/actor.ts):
 * applicant → resident, agent and staff → staff. Development only (DEV_ACTOR_HEADER): anyone can claim to
 * be anyone, so it is refused in production.
 *
 * Grants of a development actor, so the policies treat it like a real account:
 * - `staff:x;department=D` holds EVERY role scoped to department D, `staff:x;hall=H` every role scoped to
 *   hall H (both when both are given) — as if all staff roles were granted over exactly that place;
 * - `staff:x` with neither holds every role over the whole of Guizhou (division `52`) — a development
 *   supervisor, e.g. for reading the audit log;
 * - `agent:x` holds `village_agent` over the province; `applicant:x` holds nothing.
 * A hall scope's division is taken from the hall code (`522601-zwfw` → `522601`); a department's is unknown
 * (`52`). The matrix test uses real accounts with grants, never this header.
 */
export function principalFromDevActor(actor: CaseActor): Principal {
  const scopes: Scope[] = [];
  if (actor.departmentId) scopes.push({ kind: 'department', id: actor.departmentId, divisionCode: '52' });
  if (actor.hallCode)
    scopes.push({ kind: 'hall', code: actor.hallCode, divisionCode: actor.hallCode.split('-')[0] || '52' });
  if (scopes.length === 0) scopes.push({ kind: 'division', code: '52' });
  const roles: readonly Role[] =
    actor.kind === 'staff' ? DEV_ROLES : actor.kind === 'agent' ? ['village_agent'] : [];
  return {
    accountId: actor.id,
    kind: actor.kind === 'applicant' ? 'resident' : 'staff',
    via: 'dev_header',
    isAdmin: false,
    mfa: false,
    grants: roles.flatMap((role) =>
      scopes.map((scope) => ({ role, scope, itemCodes: null, validFrom: DEV_FROM, validUntil: DEV_UNTIL })),
    ),
    devActor: actor,
    ...(actor.departmentId ? { departmentId: actor.departmentId } : {}),
    ...(actor.hallCode ? { hallCode: actor.hallCode } : {}),
  };
}

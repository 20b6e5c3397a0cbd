import type { CaseActor } from '../../../domain/case-state.ts';

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
  /** Administrator flag (stand-in until grants). */
  isAdmin: boolean;
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

/**
 * The principal the development header stands for (`X-Tongban-Actor`, parsed by src/server/http/actor.ts):
 * applicant → resident, agent and staff → staff. Development only (DEV_ACTOR_HEADER).
 */
export function principalFromDevActor(actor: CaseActor): Principal {
  return {
    accountId: actor.id,
    kind: actor.kind === 'applicant' ? 'resident' : 'staff',
    via: 'dev_header',
    isAdmin: false,
    mfa: false,
    ...(actor.departmentId ? { departmentId: actor.departmentId } : {}),
    ...(actor.hallCode ? { hallCode: actor.hallCode } : {}),
  };
}

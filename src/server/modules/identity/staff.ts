import { randomInt } from 'node:crypto';
import { AppError, invalid } from '../../../domain/errors.ts';
import {
  anyGrantAllows,
  canGrant,
  type Grant,
  grantInForce,
  ROLE_NAMES,
  ROLES,
  type Role,
  roleAllows,
  roleAtMost,
  type ScopeKind,
} from '../../../domain/roles.ts';
import { type GrantsService, requireRealAccount, toGrant } from './grants.ts';
import { forbidden, requirePrincipal } from './policy.ts';
import type { Principal } from './principal.ts';
import type { AccountRow, IdentityRepository, StaffPlace } from './repository.ts';
import type { IdentityService } from './service.ts';

/** A staff account as an administrator sees it (no personal data: staff accounts hold none). */
export interface StaffView {
  id: string;
  name: string;
  username: string | null;
  departmentId: string | null;
  hallCode: string | null;
  /** GB/T 2260 division of the bound hall / department. */
  hallDivision: string | null;
  departmentDivision: string | null;
  isAdmin: boolean;
  totpEnrolled: boolean;
  /** ISO 8601; null while the account is enabled. */
  disabledAt: string | null;
  createdAt: string;
  /** Roles of the grants in force now (distinct, sorted). */
  roles: Role[];
}

/** What an administrator may hand out: one entry per grant of theirs with `grant.manage` in force. */
export interface GrantableView {
  /** The administrator's own grant this derives from. */
  grantId: string | null;
  role: Role;
  /** The root of what may be granted: this scope or anything inside it (a sub-division, a hall, a department). */
  scope: { kind: ScopeKind; value: string; divisionCode: string };
  /** null = every item; else a grant given from this one lists a subset of these. */
  itemCodes: string[] | null;
  /** ISO 8601: a grant given from this one ends no later. */
  validUntil: string;
  /** Roles that may be given (this role and every role below it in the granting order). */
  roles: { role: Role; name: string }[];
}

/** Items that may be delegated for 无差别办理 (processing mode `any_hall`). */
export interface AnyHallItemLookup {
  listItems(filter: { processingMode: string; limit: number; offset: number }): Promise<{
    items: { code: string; name: string }[];
  }>;
}

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';

/**
 * A random initial password (16 characters: upper, lower, digits and a hyphen; ≈ 88 bits), satisfying
 * the password rule. Shown once to the administrator who creates the account, never stored in clear.
 */
export function generateInitialPassword(): string {
  const pick = (set: string, n: number) => Array.from({ length: n }, () => set[randomInt(set.length)]!);
  const chars = [...pick(UPPER, 5), ...pick(LOWER, 6), ...pick(DIGITS, 4), '-'];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/**
 * Staff administration (工作人员管理) for the workbench: an administrator (hall / county / prefecture /
 * province admin: `grant.manage`) lists, creates, disables and enables the staff accounts of their own scope
 * — bound to a hall or department inside it — and sees what they may grant. Out-of-scope accounts are
 * answered as unknown (404, existence not revealed). Every change is audited with the division it concerns
 * (`details.divisionCode`), so an administrator can read the admin trail of their scope.
 * 等保 2.0 (GB/T 22239-2019) 8.1.4.2 访问控制: least privilege; no administrator beyond their own scope.
 */
export class StaffAdminService {
  private readonly identity: IdentityService;
  private readonly grants: GrantsService;
  private readonly repo: IdentityRepository;
  private readonly items: AnyHallItemLookup | undefined;

  constructor(deps: {
    identity: IdentityService;
    repo: IdentityRepository;
    items?: AnyHallItemLookup | undefined;
  }) {
    this.identity = deps.identity;
    this.grants = deps.identity.grants;
    this.repo = deps.repo;
    this.items = deps.items;
  }

  /**
   * Staff accounts of the caller's scope (every hall, department and division their `grant.manage` grants
   * cover), by name; `q` matches part of the name or username; `limit` 1–100, `offset` ≥ 0.
   * @throws 401; 403 `grant.not_admin` without an administrator grant.
   */
  async list(
    principal: Principal | null,
    query: { q?: string | undefined; limit: number; offset: number },
  ): Promise<{ total: number; limit: number; offset: number; items: StaffView[] }> {
    const p = this.admin(principal);
    const q = query.q?.trim();
    const { total, rows } = await this.repo.listStaff({
      places: placesOf(p.grants, this.identity.now()),
      ...(q ? { q } : {}),
      limit: query.limit,
      offset: query.offset,
    });
    return { total, limit: query.limit, offset: query.offset, items: await this.views(rows) };
  }

  /** One staff account of the caller's scope. @throws 401; 403 `grant.not_admin`; 404 `account.not_found`. */
  async get(principal: Principal | null, accountId: string): Promise<StaffView> {
    const p = this.admin(principal);
    const row = await this.grants.staffAccountInScope(p, accountId, this.identity.now());
    return (await this.views([row]))[0]!;
  }

  /**
   * Creates a staff account bound to a hall and/or department inside the caller's scope, with a random
   * initial password returned ONCE (`initialPassword`; only its argon2id hash is kept). `isAdmin` accounts
   * must enrol TOTP at their first sign-in (a grant of an administrator role sets it too). Audited
   * (`account.create`, actor = the administrator).
   * @throws 400 (`name`, `username`, `hallCode`/`departmentId` unknown or missing); 401; 403
   *   `grant.not_admin`, `grant.dev_actor`, `staff.out_of_scope` (binding outside the caller's scope,
   *   field `hallCode` or `departmentId`); 409 `account.already_registered`.
   */
  async create(
    principal: Principal | null,
    input: {
      name: string;
      username: string;
      hallCode?: string | undefined;
      departmentId?: string | undefined;
      isAdmin?: boolean | undefined;
      reason?: string | undefined;
    },
  ): Promise<{ account: StaffView; initialPassword: string }> {
    const p = requireRealAccount(this.admin(principal));
    const now = this.identity.now();
    if (!input.hallCode && !input.departmentId)
      throw invalid(
        'hallCode',
        'Bind the staff account to a hall (hallCode) and/or a department (departmentId) of your scope.',
        'account.binding_required',
      );
    const places = await this.identity.placesOf(input.hallCode ?? null, input.departmentId ?? null, true);
    const bindings: [string, string | undefined, string | null][] = [
      ['hallCode', input.hallCode, places.hallDivision],
      ['departmentId', input.departmentId, places.departmentDivision],
    ];
    for (const [field, value, division] of bindings) {
      if (!value) continue;
      const target = {
        divisionCodes: division ? [division] : [],
        ...(field === 'hallCode' ? { hallCodes: [value] } : { departmentIds: [value] }),
      };
      if (!anyGrantAllows(p.grants, 'grant.manage', target, now))
        throw new AppError(
          'forbidden',
          'staff.out_of_scope',
          `The ${field === 'hallCode' ? 'hall' : 'department'} ${value} lies outside your scope: bind the account to a place you administer.`,
          { field },
        );
    }
    const initialPassword = generateInitialPassword();
    const view = await this.identity.createStaff(
      {
        name: input.name,
        username: input.username,
        password: initialPassword,
        hallCode: input.hallCode,
        departmentId: input.departmentId,
        isAdmin: input.isAdmin ?? false,
      },
      { actor: { kind: 'staff', id: p.accountId }, ...(input.reason ? { reason: input.reason } : {}) },
    );
    const row = await this.repo.accountById(view.id);
    return { account: (await this.views([row!]))[0]!, initialPassword };
  }

  /**
   * Disables (`disabled` true) or enables a staff account of the caller's scope. Disabling ends every
   * session of the account at once and its API tokens stop working on their next request; the account's
   * grants stay (enable restores them). An administrator cannot disable their own account.
   * @throws 400 `reason`; 401; 403 `grant.not_admin`, `grant.dev_actor`, `staff.self`; 404 `account.not_found`.
   */
  async setDisabled(
    principal: Principal | null,
    accountId: string,
    disabled: boolean,
    reason: string,
  ): Promise<StaffView & { sessionsEnded: number }> {
    const p = requireRealAccount(this.admin(principal));
    const why = checkReason(reason);
    if (p.accountId === accountId)
      throw forbidden(
        'staff.self',
        'You cannot disable or enable your own account; ask another administrator.',
      );
    const row = await this.grants.staffAccountInScope(p, accountId, this.identity.now());
    await this.requireNoMoreThanGrantable(p, accountId);
    const result = await this.identity.setStaffDisabled(accountId, disabled, {
      actor: { kind: 'staff', id: p.accountId },
      reason: why,
      divisionCode: row.hallDivision ?? row.departmentDivision,
    });
    const fresh = await this.repo.accountById(accountId);
    return { ...(await this.views([fresh!]))[0]!, sessionsEnded: result.sessionsEnded };
  }

  /**
   * Gives a staff account of the caller's scope a new random initial password, returned ONCE; every session
   * of the account ends. @throws as {@link setDisabled}.
   */
  async resetPassword(
    principal: Principal | null,
    accountId: string,
    reason: string,
  ): Promise<{ account: StaffView; initialPassword: string }> {
    const p = requireRealAccount(this.admin(principal));
    const why = checkReason(reason);
    if (p.accountId === accountId)
      throw forbidden('staff.self', 'Reset your own password through sign-in, not as an administrator.');
    const row = await this.grants.staffAccountInScope(p, accountId, this.identity.now());
    await this.requireNoMoreThanGrantable(p, accountId);
    const initialPassword = generateInitialPassword();
    await this.identity.resetStaffPassword(accountId, initialPassword, {
      actor: { kind: 'staff', id: p.accountId },
      reason: why,
      divisionCode: row.hallDivision ?? row.departmentDivision,
    });
    return { account: (await this.views([row]))[0]!, initialPassword };
  }

  /**
   * What the caller may grant: per administrator grant in force, the roles (its own and below), the scope
   * root, the items and the latest end; plus the items that may be delegated for 无差别办理 (`any_hall`),
   * limited to the caller's items when their grants are. @throws 401; 403 `grant.not_admin`.
   */
  async grantable(
    principal: Principal | null,
  ): Promise<{ grants: GrantableView[]; anyHallItems: { code: string; name: string }[] }> {
    const p = this.admin(principal);
    const now = this.identity.now();
    const managing = p.grants.filter((g) => grantInForce(g, now) && roleAllows(g.role, 'grant.manage'));
    const grants = managing.map(
      (g): GrantableView => ({
        grantId: g.id ?? null,
        role: g.role,
        scope:
          g.scope.kind === 'division'
            ? { kind: 'division', value: g.scope.code, divisionCode: g.scope.code }
            : g.scope.kind === 'hall'
              ? { kind: 'hall', value: g.scope.code, divisionCode: g.scope.divisionCode }
              : { kind: 'department', value: g.scope.id, divisionCode: g.scope.divisionCode },
        itemCodes: g.itemCodes === null ? null : [...g.itemCodes],
        validUntil: g.validUntil.toISOString(),
        roles: ROLES.filter((r) => roleAtMost(r, g.role)).map((role) => ({ role, name: ROLE_NAMES[role] })),
      }),
    );
    let anyHallItems: { code: string; name: string }[] = [];
    if (this.items) {
      const page = await this.items.listItems({ processingMode: 'any_hall', limit: 200, offset: 0 });
      const allItems = managing.some((g) => g.itemCodes === null);
      const allowed = new Set(managing.flatMap((g) => g.itemCodes ?? []));
      anyHallItems = page.items
        .filter((i) => allItems || allowed.has(i.code))
        .map((i) => ({ code: i.code, name: i.name }))
        .sort((a, b) => a.code.localeCompare(b.code));
    }
    return { grants, anyHallItems };
  }

  // ------------------------------------------------------------------------------------------ internals

  /**
   * The account holds no grant (in force or starting later) the caller could not have given
   * ({@link canGrant}; time aside, as for a revocation): an account bound inside the caller's scope may
   * still hold more (a county administrator at the county hall, an auditor appointed by the province),
   * and disabling it or taking over its password would reach above the caller.
   * @throws 403 `staff.exceeds_own`.
   */
  private async requireNoMoreThanGrantable(p: Principal, accountId: string): Promise<void> {
    const now = this.identity.now();
    const held = (await this.repo.grantsOf(accountId)).filter((g) => !g.revokedAt && g.validUntil > now);
    const higher = held.find(
      (g) =>
        canGrant(
          p.grants,
          { ...toGrant(g), validFrom: now, validUntil: new Date(now.getTime() + 1), revokedAt: null },
          now,
        ) !== null,
    );
    if (higher)
      throw forbidden(
        'staff.exceeds_own',
        `This account holds a grant you could not give (${higher.role} over ${higher.scopeKind} ${higher.scopeValue}); ask an administrator above it.`,
      );
  }

  private admin(principal: Principal | null): Principal {
    const p = requirePrincipal(principal);
    if (!p.grants.some((g) => grantInForce(g, this.identity.now()) && roleAllows(g.role, 'grant.manage')))
      throw forbidden('grant.not_admin', 'Only administrators (grant.manage) manage staff.');
    return p;
  }

  private async views(rows: AccountRow[]): Promise<StaffView[]> {
    const roles = await this.repo.rolesInForce(
      rows.map((r) => r.id),
      this.identity.now(),
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      username: row.username,
      departmentId: row.departmentId,
      hallCode: row.hallCode,
      hallDivision: row.hallDivision,
      departmentDivision: row.departmentDivision,
      isAdmin: row.isAdmin,
      totpEnrolled: row.totpConfirmedAt !== null,
      disabledAt: row.disabledAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      roles: (roles.get(row.id) ?? []) as Role[],
    }));
  }
}

/** The places the caller's administrator grants in force cover. */
export function placesOf(grants: readonly Grant[], now: Date): StaffPlace[] {
  return grants
    .filter((g) => grantInForce(g, now) && roleAllows(g.role, 'grant.manage'))
    .map((g) =>
      g.scope.kind === 'division'
        ? { kind: 'division' as const, code: g.scope.code }
        : g.scope.kind === 'hall'
          ? { kind: 'hall' as const, code: g.scope.code }
          : { kind: 'department' as const, id: g.scope.id },
    );
}

function checkReason(reason: string | undefined): string {
  const why = String(reason ?? '').trim();
  if (why.length < 2 || why.length > 500)
    throw invalid('reason', 'Say why (2–500 characters); it goes into the audit log.', 'staff.invalid');
  return why;
}

import { parseDivisionCode } from '../../../domain/division-code.ts';
import { AppError, invalid, notFound } from '../../../domain/errors.ts';
import {
  anyGrantAllows,
  canGrant,
  type Grant,
  grantInForce,
  ROLES,
  type Role,
  roleAllows,
  type Scope,
  type ScopeKind,
  type ScopeTarget,
} from '../../../domain/roles.ts';
import type { Db } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import { checkItemCodes, forbidden, requirePrincipal } from './policy.ts';
import type { Principal } from './principal.ts';
import type { AccountRow, GrantRow, IdentityRepository } from './repository.ts';

/** A grant as the API shows it (ISO 8601 times). */
export interface GrantView {
  id: string;
  accountId: string;
  role: Role;
  scope: { kind: ScopeKind; value: string; divisionCode: string };
  itemCodes: string[] | null;
  validFrom: string;
  validUntil: string;
  grantedBy: string;
  reason: string;
  createdAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
}

/** What an administrator asks for (`POST /api/v1/grants`). */
export interface GrantRequest {
  accountId: string;
  role: string;
  scope: { kind: ScopeKind; value: string };
  itemCodes?: string[] | null;
  /** default: now */
  validFrom?: Date;
  validUntil: Date;
  reason: string;
}

/** Where halls and departments lie: read through the halls and departments services (before any transaction). */
export interface ScopeResolver {
  hallDivision(code: string): Promise<string>;
  departmentDivision(id: string): Promise<string>;
}

const MAX_GRANT_MS = 3 * 366 * 86_400_000;

/**
 * Grants (授权, "delegation in seconds"): an administrator grants or revokes a role over a scope, optionally
 * for certain items, to a staff member inside their own scope; it takes effect on the next request (every
 * request loads its principal's grants afresh — no cache that would delay a revocation), ends by itself at
 * `validUntil`, and is written in ONE transaction with its audit entry (`grant.create` / `grant.revoke`).
 * An administrator never grants more than they hold ({@link canGrant}; 等保 2.0 8.1.4.2 访问控制 最小授权).
 */
/**
 * Grants are given and revoked only by signed-in accounts (session or API token): the development header
 * (X-Tongban-Actor) holds every role over its place and must never hand out real grants.
 * @throws 401; 403 `grant.dev_actor`.
 */
export function requireRealAccount(principal: Principal | null): Principal {
  const p = requirePrincipal(principal);
  if (p.via === 'dev_header')
    throw forbidden(
      'grant.dev_actor',
      'Grants are managed by signed-in administrators, not through the X-Tongban-Actor development header.',
    );
  return p;
}

export class GrantsService {
  private readonly db: Db;
  private readonly repo: IdentityRepository;
  private readonly deps: { audit: AuditService | undefined; scopes: ScopeResolver | undefined };
  private readonly clock: () => Date;

  constructor(
    db: Db,
    repo: IdentityRepository,
    deps: { audit: AuditService | undefined; scopes: ScopeResolver | undefined },
    clock: () => Date,
  ) {
    this.db = db;
    this.repo = repo;
    this.deps = deps;
    this.clock = clock;
  }

  /** The grants of an account in force at `now` (one indexed query), in the domain's shape. */
  async grantsOf(accountId: string, now: Date = this.clock()): Promise<Grant[]> {
    return (await this.repo.grantsInForce(accountId, now)).map(toGrant);
  }

  /**
   * Grants a role (`POST /api/v1/grants`). The caller must hold, in force, a `grant.manage` grant that
   * dominates the new one (role ≥, scope ⊇, items ⊇, validity ⊇) and whose scope covers the staff
   * member's hall, department or division.
   * @throws 400 naming the field (`role`, `scope.value`, `itemCodes`, `validUntil`, `reason`); 401; 403
   *   `grant.dev_actor` (development header), `grant.exceeds_own` (field = what exceeds) — nothing is
   *   written; 404 `account.not_found` for an unknown account or one outside the caller's scope
   *   (existence is not revealed).
   */
  async grant(principal: Principal | null, input: GrantRequest): Promise<GrantView> {
    const p = requireRealAccount(principal);
    const now = this.clock();
    const candidate = await this.candidate(input, now);
    const account = await this.staffAccountInScope(p, input.accountId, now);
    const refusal = canGrant(p.grants, candidate, now);
    if (refusal) {
      throw new AppError(
        'forbidden',
        'grant.exceeds_own',
        `You may not grant this: ${refusal.reason}. An administrator grants at most what they hold.`,
        { field: refusal.field },
      );
    }
    return this.insert(
      candidate,
      account,
      input.reason,
      p.accountId,
      { kind: 'staff', id: p.accountId },
      true,
    );
  }

  /**
   * Bootstrap (`tongban grant create`): grants without a granter's check — for the first province
   * administrator. Audited like any grant, with actor `cli:<by>`.
   * @throws 400 as {@link grant}; 404 `account.not_found`.
   */
  async grantFromCli(input: GrantRequest, by: string): Promise<GrantView> {
    const now = this.clock();
    const candidate = await this.candidate(input, now);
    const account = await this.repo.accountById(input.accountId);
    if (account?.kind !== 'staff')
      throw notFound('account.not_found', `No staff account ${input.accountId}.`, 'accountId');
    return this.insert(candidate, account, input.reason, `cli:${by}`, { kind: 'system', id: `cli:${by}` });
  }

  /**
   * Revokes a grant at once (`DELETE /api/v1/grants/{id}`): effective on the grantee's next request. The
   * caller must be able to grant it (it lies within one of their `grant.manage` grants).
   * @throws 400 `reason`; 403 `grant.not_admin` (no grant.manage in force), `grant.exceeds_own`; 404
   *   `grant.not_found` (unknown, already revoked, or of an account outside the caller's scope).
   */
  async revoke(principal: Principal | null, id: string, reason: string): Promise<GrantView> {
    const p = requireRealAccount(principal);
    const why = String(reason ?? '').trim();
    if (why.length < 2 || why.length > 500)
      throw invalid('reason', 'Say why the grant is revoked (2–500 characters).', 'grant.invalid');
    const now = this.clock();
    // a caller who administers nobody learns nothing about grants (not even whether one exists)
    if (!p.grants.some((g) => grantInForce(g, now) && roleAllows(g.role, 'grant.manage')))
      throw forbidden('grant.not_admin', 'Only administrators (grant.manage) manage grants.');
    const existing = await this.repo.grantById(id);
    if (!existing || existing.revokedAt) throw notFound('grant.not_found', `No grant ${id} in force.`, 'id');
    const account = await this.staffAccountInScope(p, existing.accountId, now, 'grant.not_found');
    // Time does not matter for a revocation: role, scope and items must lie within the caller's.
    const probe = { ...toGrant(existing), validFrom: now, validUntil: new Date(now.getTime() + 1) };
    if (canGrant(p.grants, probe, now))
      throw new AppError(
        'forbidden',
        'grant.exceeds_own',
        'You may only revoke grants you could have granted.',
      );
    return this.db.transaction(async (tx) => {
      const row = await this.repo.revokeGrant(tx, id, {
        revokedAt: now,
        revokedBy: p.accountId,
        revokedReason: why,
      });
      if (!row) throw notFound('grant.not_found', `No grant ${id} in force.`, 'id');
      await this.deps.audit?.append(tx, {
        actor: { kind: 'staff', id: p.accountId },
        action: 'grant.revoke',
        target: { type: 'grant', id: row.id },
        purpose: why,
        details: {
          accountId: row.accountId,
          role: row.role,
          scope: `${row.scopeKind}:${row.scopeValue}`,
          divisionCode: account.hallDivision ?? account.departmentDivision ?? row.scopeDivision,
          hallCode: account.hallCode,
        },
      });
      return view(row);
    });
  }

  /**
   * An account's grants, history included (`GET /api/v1/accounts/{id}/grants`): the account itself, or an
   * administrator whose scope covers it. @throws 401; 404 `account.not_found` otherwise.
   */
  async list(principal: Principal | null, accountId: string): Promise<GrantView[]> {
    const p = requirePrincipal(principal);
    if (p.accountId !== accountId) await this.staffAccountInScope(p, accountId, this.clock());
    return (await this.repo.grantsOf(accountId)).map(view);
  }

  // ------------------------------------------------------------------------------------------ internals

  private async insert(
    g: Grant,
    account: AccountRow,
    reason: string,
    grantedBy: string,
    actor: { kind: string; id: string },
    /** API path: an administrator role makes the account an administrator (TOTP mandatory). The CLI
     * bootstrap marks administrators itself (`account create-staff --admin`). */
    markAdmin = false,
  ): Promise<GrantView> {
    const now = this.clock();
    const accountId = account.id;
    return this.db.transaction(async (tx) => {
      // An administrator's account must use a second factor (TOTP) from its next sign-in on.
      if (markAdmin && roleAllows(g.role, 'grant.manage') && !account.isAdmin)
        await this.repo.updateAccount(accountId, { isAdmin: true }, tx);
      const row = await this.repo.insertGrant(tx, {
        accountId,
        role: g.role,
        scopeKind: g.scope.kind,
        scopeValue: g.scope.kind === 'department' ? g.scope.id : g.scope.code,
        scopeDivision: g.scope.kind === 'division' ? g.scope.code : g.scope.divisionCode,
        itemCodes: g.itemCodes === null ? null : [...g.itemCodes],
        validFrom: g.validFrom,
        validUntil: g.validUntil,
        grantedBy,
        reason: reason.trim(),
        createdAt: now,
      });
      await this.deps.audit?.append(tx, {
        actor,
        action: 'grant.create',
        target: { type: 'grant', id: row.id },
        purpose: row.reason,
        details: {
          accountId,
          role: row.role,
          scope: `${row.scopeKind}:${row.scopeValue}`,
          itemCodes: row.itemCodes,
          validFrom: row.validFrom.toISOString(),
          validUntil: row.validUntil.toISOString(),
          divisionCode: account.hallDivision ?? account.departmentDivision ?? row.scopeDivision,
          hallCode: account.hallCode,
        },
      });
      return view(row);
    });
  }

  /** Validates a request into a domain grant (reads halls / departments: call before any transaction). */
  private async candidate(input: GrantRequest, now: Date): Promise<Grant> {
    if (!(ROLES as readonly string[]).includes(input.role))
      throw invalid('role', `Unknown role "${input.role}": use one of ${ROLES.join(', ')}.`, 'grant.invalid');
    const reason = String(input.reason ?? '').trim();
    if (reason.length < 2 || reason.length > 500)
      throw invalid('reason', 'Say why the grant is given (2–500 characters).', 'grant.invalid');
    const validFrom = input.validFrom ?? now;
    if (!(input.validUntil > validFrom) || input.validUntil <= now)
      throw invalid('validUntil', 'validUntil must lie in the future and after validFrom.', 'grant.invalid');
    if (input.validUntil.getTime() - validFrom.getTime() > MAX_GRANT_MS)
      throw invalid(
        'validUntil',
        'A grant lasts at most 3 years; grant it again when it ends.',
        'grant.invalid',
      );
    const items = checkItemCodes(input.itemCodes ?? null, 'grant.invalid');
    return {
      role: input.role as Role,
      scope: await this.resolveScope(input.scope),
      itemCodes: items === null ? null : [...new Set(items)].sort(),
      validFrom,
      validUntil: input.validUntil,
    };
  }

  private async resolveScope(s: { kind: ScopeKind; value: string }): Promise<Scope> {
    const rename = (e: unknown): never => {
      if (e instanceof AppError)
        throw new AppError(e.kind === 'not_found' ? 'validation' : e.kind, e.code, e.message, {
          field: 'scope.value',
        });
      throw e;
    };
    switch (s.kind) {
      case 'division':
        try {
          return { kind: 'division', code: parseDivisionCode(s.value, 'scope.value').code };
        } catch (e) {
          return rename(e);
        }
      case 'hall':
        if (!this.deps.scopes)
          throw invalid('scope.kind', 'Hall scopes need the halls module.', 'grant.invalid');
        return {
          kind: 'hall',
          code: s.value,
          divisionCode: await this.deps.scopes.hallDivision(s.value).catch(rename),
        };
      case 'department':
        if (!this.deps.scopes)
          throw invalid('scope.kind', 'Department scopes need the departments module.', 'grant.invalid');
        return {
          kind: 'department',
          id: s.value,
          divisionCode: await this.deps.scopes.departmentDivision(s.value).catch(rename),
        };
      default:
        throw invalid('scope.kind', 'Use division, hall or department.', 'grant.invalid');
    }
  }

  /**
   * The staff account, when the caller administers it (grant.manage over its hall, department or
   * division). @throws 403 `grant.not_admin`; 404 `code` (default `account.not_found`) otherwise.
   */
  async staffAccountInScope(
    p: Principal,
    accountId: string,
    now: Date,
    code = 'account.not_found',
  ): Promise<AccountRow> {
    if (!p.grants.some((g) => grantInForce(g, now) && roleAllows(g.role, 'grant.manage')))
      throw forbidden('grant.not_admin', 'Only administrators (grant.manage) manage grants.');
    const account = await this.repo.accountById(accountId);
    const target = account?.kind === 'staff' ? await this.targetOf(account) : undefined;
    // Outside the caller's scope is answered like unknown: existence is not revealed.
    if (!account || !target || !anyGrantAllows(p.grants, 'grant.manage', target, now))
      throw notFound(
        code,
        `No ${code === 'grant.not_found' ? 'grant' : 'staff account'} ${accountId} in your scope.`,
        'id',
      );
    return account;
  }

  private async targetOf(account: AccountRow): Promise<ScopeTarget> {
    const divisions: string[] = [];
    if (account.hallCode) {
      divisions.push(account.hallCode.split('-')[0]!);
      const d = await this.deps.scopes?.hallDivision(account.hallCode).catch(() => undefined);
      if (d) divisions.push(d);
    }
    if (account.departmentId) {
      const d = await this.deps.scopes?.departmentDivision(account.departmentId).catch(() => undefined);
      if (d) divisions.push(d);
    }
    return {
      divisionCodes: divisions,
      hallCodes: account.hallCode ? [account.hallCode] : [],
      departmentIds: account.departmentId ? [account.departmentId] : [],
    };
  }
}

/** A stored grant in the domain's shape. */
export function toGrant(row: GrantRow): Grant {
  const scope: Scope =
    row.scopeKind === 'division'
      ? { kind: 'division', code: row.scopeValue }
      : row.scopeKind === 'hall'
        ? { kind: 'hall', code: row.scopeValue, divisionCode: row.scopeDivision }
        : { kind: 'department', id: row.scopeValue, divisionCode: row.scopeDivision };
  return {
    id: row.id,
    role: row.role as Role,
    scope,
    itemCodes: row.itemCodes ?? null,
    validFrom: row.validFrom,
    validUntil: row.validUntil,
    revokedAt: row.revokedAt,
  };
}

function view(row: GrantRow): GrantView {
  return {
    id: row.id,
    accountId: row.accountId,
    role: row.role as Role,
    scope: { kind: row.scopeKind, value: row.scopeValue, divisionCode: row.scopeDivision },
    itemCodes: row.itemCodes ?? null,
    validFrom: row.validFrom.toISOString(),
    validUntil: row.validUntil.toISOString(),
    grantedBy: row.grantedBy,
    reason: row.reason,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revokedBy: row.revokedBy,
    revokedReason: row.revokedReason,
  };
}

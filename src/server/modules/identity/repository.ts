import { and, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { countAll } from '../../db/sql.ts';
import {
  accounts,
  apiTokens,
  authLockouts,
  federatedIdentities,
  grants,
  legalPersonOperators,
  oidcFlows,
  otpCodes,
  sessions,
} from './schema.ts';

export type AccountRow = typeof accounts.$inferSelect;
export type NewAccountRow = typeof accounts.$inferInsert;
export type SessionRow = typeof sessions.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type OtpRow = typeof otpCodes.$inferSelect;
export type OidcFlowRow = typeof oidcFlows.$inferSelect;
export type GrantRow = typeof grants.$inferSelect;
/** A place an administrator's grant covers, for listing staff (see {@link IdentityRepository.listStaff}). */
export type StaffPlace =
  | { kind: 'division'; code: string }
  | { kind: 'hall'; code: string }
  | { kind: 'department'; id: string };

/** SQL of the identity module (no business rules). */
export class IdentityRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Locks up to `limit` accounts with a sealed value (ID number, phone, TOTP secret) whose envelope is
   * plaintext or under a key other than `currentKeyId` (the key id is the envelope's third field),
   * skipping rows another node holds.
   */
  lockPiiStale(tx: Tx, currentKeyId: string, limit: number) {
    const stale = (
      c: typeof accounts.idNumberEnc | typeof accounts.phoneEnc | typeof accounts.totpSecretEnc,
    ) => sql`(${c} is not null and split_part(${c}, ':', 3) <> ${currentKeyId})`;
    return tx
      .select({
        id: accounts.id,
        idNumberEnc: accounts.idNumberEnc,
        phoneEnc: accounts.phoneEnc,
        totpSecretEnc: accounts.totpSecretEnc,
      })
      .from(accounts)
      .where(or(stale(accounts.idNumberEnc), stale(accounts.phoneEnc), stale(accounts.totpSecretEnc)))
      .orderBy(accounts.id)
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  async setSealed(
    tx: Tx,
    id: string,
    set: Pick<NewAccountRow, 'idNumberEnc' | 'phoneEnc' | 'totpSecretEnc'>,
  ): Promise<void> {
    await tx.update(accounts).set(set).where(eq(accounts.id, id));
  }

  // ------------------------------------------------------------------------------------------ accounts

  async insertAccount(tx: Tx | Db, row: NewAccountRow): Promise<AccountRow> {
    const [created] = await tx.insert(accounts).values(row).returning();
    return created!;
  }

  /**
   * Inserts an account unless one of the unique keys (ID number, phone, credit code, username) is taken:
   * `ON CONFLICT DO NOTHING`, so a concurrent registration that won the race is an answer, not a
   * unique-violation error. @returns the new row, or undefined when a key was taken.
   */
  async insertAccountUnlessTaken(tx: Tx | Db, row: NewAccountRow): Promise<AccountRow | undefined> {
    const [created] = await tx.insert(accounts).values(row).onConflictDoNothing().returning();
    return created;
  }

  async accountsByIds(ids: string[]): Promise<AccountRow[]> {
    if (ids.length === 0) return [];
    return this.db.select().from(accounts).where(inArray(accounts.id, ids));
  }

  async accountById(id: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.id, id));
    return row;
  }

  async accountByPhoneHash(phoneHash: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.phoneHash, phoneHash));
    return row;
  }

  async accountByIdNumberHash(hash: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.idNumberHash, hash));
    return row;
  }

  async accountByUsername(username: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.username, username));
    return row;
  }

  async accountByCreditCode(code: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.creditCode, code));
    return row;
  }

  async updateAccount(id: string, set: Partial<NewAccountRow>, tx: Tx | Db = this.db): Promise<void> {
    await tx.update(accounts).set(set).where(eq(accounts.id, id));
  }

  /**
   * Staff accounts inside any of `places` (an administrator's scopes): a division prefix matches the bound
   * hall's or department's division; a hall or department matches the binding itself. `q` matches part of
   * the name or the username. Ordered by name, then id; `total` counts every match.
   */
  async listStaff(filter: {
    places: readonly StaffPlace[];
    q?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ total: number; rows: AccountRow[] }> {
    if (filter.places.length === 0) return { total: 0, rows: [] };
    const place = or(
      ...filter.places.map((p) =>
        p.kind === 'division'
          ? or(
              sql`${accounts.hallDivision} like ${`${p.code}%`}`,
              sql`${accounts.departmentDivision} like ${`${p.code}%`}`,
            )
          : p.kind === 'hall'
            ? eq(accounts.hallCode, p.code)
            : eq(accounts.departmentId, p.id),
      ),
    );
    const where = [eq(accounts.kind, 'staff'), place];
    if (filter.q) {
      const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(or(sql`${accounts.name} ilike ${like}`, sql`${accounts.username} ilike ${like}`));
    }
    const cond = and(...where);
    const [count] = await this.db.select({ n: countAll() }).from(accounts).where(cond);
    const rows = await this.db
      .select()
      .from(accounts)
      .where(cond)
      .orderBy(accounts.name, accounts.id)
      .limit(filter.limit)
      .offset(filter.offset);
    return { total: count?.n ?? 0, rows };
  }

  /** Sets the last TOTP step only when it is newer (one code, one use, even across nodes). */
  async advanceTotpStep(id: string, step: number): Promise<boolean> {
    const rows = await this.db
      .update(accounts)
      .set({ totpLastStep: step })
      .where(and(eq(accounts.id, id), or(isNull(accounts.totpLastStep), lt(accounts.totpLastStep, step))))
      .returning({ id: accounts.id });
    return rows.length === 1;
  }

  async addOperator(tx: Tx | Db, legalPersonId: string, residentId: string): Promise<void> {
    await tx.insert(legalPersonOperators).values({ legalPersonId, residentId }).onConflictDoNothing();
  }

  async isOperator(legalPersonId: string, residentId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ n: countAll() })
      .from(legalPersonOperators)
      .where(
        and(
          eq(legalPersonOperators.legalPersonId, legalPersonId),
          eq(legalPersonOperators.residentId, residentId),
        ),
      );
    return (row?.n ?? 0) > 0;
  }

  async legalPersonsOf(residentId: string): Promise<string[]> {
    const rows = await this.db
      .select({ id: legalPersonOperators.legalPersonId })
      .from(legalPersonOperators)
      .where(eq(legalPersonOperators.residentId, residentId));
    return rows.map((r) => r.id);
  }

  async federated(issuer: string, subject: string): Promise<string | undefined> {
    const [row] = await this.db
      .select()
      .from(federatedIdentities)
      .where(and(eq(federatedIdentities.issuer, issuer), eq(federatedIdentities.subject, subject)));
    return row?.accountId;
  }

  /** Clears the password and the phone of an account a verified identity takes over; returns it. */
  async takeOverForFederation(tx: Tx, accountId: string): Promise<AccountRow> {
    const [row] = await tx
      .update(accounts)
      .set({ passwordHash: null, phoneHash: null, phoneEnc: null })
      .where(eq(accounts.id, accountId))
      .returning();
    return row!;
  }

  async link(tx: Tx | Db, issuer: string, subject: string, accountId: string): Promise<void> {
    await tx.insert(federatedIdentities).values({ issuer, subject, accountId }).onConflictDoNothing();
  }

  // ------------------------------------------------------------------------------------------ sessions

  async insertSession(row: typeof sessions.$inferInsert): Promise<void> {
    await this.db.insert(sessions).values(row);
  }

  async sessionByHash(idHash: string): Promise<SessionRow | undefined> {
    const [row] = await this.db.select().from(sessions).where(eq(sessions.idHash, idHash));
    return row;
  }

  async touchSession(idHash: string, at: Date): Promise<void> {
    await this.db.update(sessions).set({ lastSeenAt: at }).where(eq(sessions.idHash, idHash));
  }

  /** Replaces a session's id (and CSRF token) keeping the rest; false when the old id is gone. */
  async rekeySession(oldHash: string, set: Partial<typeof sessions.$inferInsert>): Promise<boolean> {
    const rows = await this.db
      .update(sessions)
      .set(set)
      .where(eq(sessions.idHash, oldHash))
      .returning({ h: sessions.idHash });
    return rows.length === 1;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.idHash, idHash));
  }

  async deleteSessionsOf(accountId: string, tx: Tx | Db = this.db): Promise<number> {
    const rows = await tx
      .delete(sessions)
      .where(eq(sessions.accountId, accountId))
      .returning({ h: sessions.idHash });
    return rows.length;
  }

  // ------------------------------------------------------------------------------------------ OTP

  async insertOtp(row: typeof otpCodes.$inferInsert): Promise<void> {
    await this.db.insert(otpCodes).values(row);
  }

  async countOtpsSince(by: { phoneHash?: string; ip?: string }, since: Date): Promise<number> {
    const [row] = await this.db
      .select({ n: countAll() })
      .from(otpCodes)
      .where(
        and(
          gte(otpCodes.createdAt, since),
          by.phoneHash ? eq(otpCodes.phoneHash, by.phoneHash) : undefined,
          by.ip ? eq(otpCodes.requestIp, by.ip) : undefined,
        ),
      );
    return row?.n ?? 0;
  }

  /** The phone's latest request, sent or not (for the resend window). */
  async latestOtpRequest(phoneHash: string): Promise<OtpRow | undefined> {
    const [row] = await this.db
      .select()
      .from(otpCodes)
      .where(eq(otpCodes.phoneHash, phoneHash))
      .orderBy(desc(otpCodes.createdAt))
      .limit(1);
    return row;
  }

  /** The phone's latest code that was sent (rows without a code are skipped). */
  async latestOtp(phoneHash: string): Promise<(OtpRow & { codeHash: string }) | undefined> {
    const [row] = await this.db
      .select()
      .from(otpCodes)
      .where(and(eq(otpCodes.phoneHash, phoneHash), isNotNull(otpCodes.codeHash)))
      .orderBy(desc(otpCodes.createdAt))
      .limit(1);
    return row as (OtpRow & { codeHash: string }) | undefined;
  }

  /** Marks a code used; true only for the one caller that consumed it (single use across nodes). */
  async consumeOtp(id: string, at: Date): Promise<boolean> {
    const rows = await this.db
      .update(otpCodes)
      .set({ consumedAt: at })
      .where(and(eq(otpCodes.id, id), isNull(otpCodes.consumedAt)))
      .returning({ id: otpCodes.id });
    return rows.length === 1;
  }

  /**
   * Takes one guess of an SMS code atomically: counts the attempt only while the code is unused,
   * unexpired and below `max` attempts. @returns false when no guess is left (concurrent guesses beyond
   * `max` all get false — the check and the count are one statement).
   */
  async claimOtpAttempt(id: string, max: number, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(otpCodes)
      .set({ attempts: sql`${otpCodes.attempts} + 1` })
      .where(
        and(
          eq(otpCodes.id, id),
          isNull(otpCodes.consumedAt),
          gt(otpCodes.expiresAt, now),
          lt(otpCodes.attempts, max),
        ),
      )
      .returning({ id: otpCodes.id });
    return rows.length === 1;
  }

  // ------------------------------------------------------------------------------------------ lockouts

  async lockout(key: string): Promise<typeof authLockouts.$inferSelect | undefined> {
    const [row] = await this.db.select().from(authLockouts).where(eq(authLockouts.key, key));
    return row;
  }

  /**
   * Counts one failure atomically (restarting the count when the last failure is older than `resetBefore`)
   * and returns the new count.
   */
  async countFailure(key: string, at: Date, resetBefore: Date): Promise<number> {
    const [row] = await this.db
      .insert(authLockouts)
      .values({ key, failures: 1, lastFailureAt: at })
      .onConflictDoUpdate({
        target: authLockouts.key,
        set: {
          failures: sql`case when ${authLockouts.lastFailureAt} < ${resetBefore.toISOString()}::timestamptz then 1 else ${authLockouts.failures} + 1 end`,
          lastFailureAt: at,
        },
      })
      .returning({ failures: authLockouts.failures });
    return row!.failures;
  }

  async lockUntil(key: string, until: Date): Promise<void> {
    await this.db.update(authLockouts).set({ lockedUntil: until }).where(eq(authLockouts.key, key));
  }

  async clearLockout(key: string): Promise<void> {
    await this.db.delete(authLockouts).where(eq(authLockouts.key, key));
  }

  // ------------------------------------------------------------------------------------------ API tokens

  async insertToken(row: typeof apiTokens.$inferInsert): Promise<ApiTokenRow> {
    const [created] = await this.db.insert(apiTokens).values(row).returning();
    return created!;
  }

  async tokenByHash(hash: string): Promise<ApiTokenRow | undefined> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hash));
    return row;
  }

  async tokensOf(accountId: string): Promise<ApiTokenRow[]> {
    return this.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.accountId, accountId))
      .orderBy(desc(apiTokens.createdAt));
  }

  async revokeToken(id: string, accountId: string, at: Date): Promise<boolean> {
    const rows = await this.db
      .update(apiTokens)
      .set({ revokedAt: at })
      .where(and(eq(apiTokens.id, id), eq(apiTokens.accountId, accountId), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    return rows.length === 1;
  }

  async touchToken(id: string, at: Date): Promise<void> {
    await this.db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));
  }

  // ------------------------------------------------------------------------------------------ OIDC flows

  async insertFlow(row: OidcFlowRow): Promise<void> {
    await this.db.insert(oidcFlows).values(row);
  }

  /** Removes and returns a flow (each authorization response is used once); null when gone or older than `since`. */
  async takeFlow(idHash: string, since: Date): Promise<OidcFlowRow | undefined> {
    const [row] = await this.db
      .delete(oidcFlows)
      .where(and(eq(oidcFlows.idHash, idHash), gt(oidcFlows.createdAt, since)))
      .returning();
    return row;
  }

  async deleteFlowsBefore(before: Date): Promise<void> {
    await this.db.delete(oidcFlows).where(lt(oidcFlows.createdAt, before));
  }

  // ------------------------------------------------------------------------------------------ grants

  async insertGrant(tx: Tx | Db, row: typeof grants.$inferInsert): Promise<GrantRow> {
    const [created] = await tx.insert(grants).values(row).returning();
    return created!;
  }

  async grantById(id: string, tx: Tx | Db = this.db): Promise<GrantRow | undefined> {
    const [row] = await tx.select().from(grants).where(eq(grants.id, id));
    return row;
  }

  /** Grants of an account not revoked and not yet ended at `at` (one indexed query). */
  /** The distinct roles in force at `at` of each of `accountIds` (one statement, for staff lists). */
  async rolesInForce(accountIds: readonly string[], at: Date): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (accountIds.length === 0) return out;
    const rows = await this.db
      .selectDistinct({ accountId: grants.accountId, role: grants.role })
      .from(grants)
      .where(
        and(
          inArray(grants.accountId, [...accountIds]),
          isNull(grants.revokedAt),
          gt(grants.validUntil, at),
          lte(grants.validFrom, at),
        ),
      );
    for (const r of rows) out.set(r.accountId, [...(out.get(r.accountId) ?? []), r.role].sort());
    return out;
  }

  async grantsInForce(accountId: string, at: Date): Promise<GrantRow[]> {
    return this.db
      .select()
      .from(grants)
      .where(
        and(
          eq(grants.accountId, accountId),
          isNull(grants.revokedAt),
          gt(grants.validUntil, at),
          lte(grants.validFrom, at),
        ),
      );
  }

  /** Every grant of an account, newest first (history included). */
  async grantsOf(accountId: string): Promise<GrantRow[]> {
    return this.db
      .select()
      .from(grants)
      .where(eq(grants.accountId, accountId))
      .orderBy(desc(grants.createdAt));
  }

  async revokeGrant(
    tx: Tx | Db,
    id: string,
    set: { revokedAt: Date; revokedBy: string; revokedReason: string },
  ): Promise<GrantRow | undefined> {
    const [row] = await tx
      .update(grants)
      .set(set)
      .where(and(eq(grants.id, id), isNull(grants.revokedAt)))
      .returning();
    return row;
  }
}

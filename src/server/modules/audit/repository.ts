import { type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { rowsOf, toInt } from '../../db/sql.ts';
import { auditChain, auditEntries } from './schema.ts';

export type NewAuditRow = Omit<typeof auditEntries.$inferInsert, 'chainSeq' | 'hash'>;

/** An entry as stored, with `at` as the exact microsecond instant `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC). */
export interface StoredAuditEntry {
  id: string;
  at: string;
  actorKind: string;
  actorId: string;
  onBehalfOf: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  purpose: string | null;
  outcome: string;
  requestId: string | null;
  clientIp: string | null;
  details: Record<string, unknown>;
  chainSeq: number | null;
  hash: string | null;
}

export interface ChainHead {
  headSeq: number;
  headHash: string;
  checkpointSeq: number;
  checkpointHash: string;
  checkpointAt: string | null;
}

export interface AuditListFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Keyset: strictly older than this (`at` microsecond text, id). */
  before?: { at: string; id: string } | undefined;
  /** Only actions starting with one of these (e.g. `hall.`) or equal to one (e.g. `account.create`). */
  actionPrefixes?: readonly string[] | undefined;
  /**
   * Only entries whose `details.divisionCode` lies in one of `divisions` (code prefix) or whose
   * `details.hallCode` is one of `halls` (an administrator's scope).
   */
  places?: { divisions: readonly string[]; halls: readonly string[] } | undefined;
  limit: number;
}

const MICRO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

const COLUMNS = sql.raw(`id::text as id,
  to_char(at at time zone 'UTC', ${MICRO_UTC}) as at,
  actor_kind as "actorKind", actor_id as "actorId", on_behalf_of as "onBehalfOf", action,
  target_type as "targetType", target_id as "targetId", purpose, outcome,
  request_id as "requestId", client_ip as "clientIp", details, chain_seq as "chainSeq", hash`);

function normalise(rows: StoredAuditEntry[]): StoredAuditEntry[] {
  for (const r of rows) {
    r.chainSeq = r.chainSeq === null ? null : toInt(r.chainSeq);
    if (typeof r.details === 'string') r.details = JSON.parse(r.details) as Record<string, unknown>;
  }
  return rows;
}

function headOf(row: Record<string, unknown> | undefined): ChainHead | null {
  if (!row) return null;
  return {
    headSeq: toInt(row.headSeq),
    headHash: String(row.headHash),
    checkpointSeq: toInt(row.checkpointSeq),
    checkpointHash: String(row.checkpointHash),
    checkpointAt: row.checkpointAt === null ? null : String(row.checkpointAt),
  };
}

const HEAD_COLUMNS = sql.raw(`head_seq as "headSeq", head_hash as "headHash",
  checkpoint_seq as "checkpointSeq", checkpoint_hash as "checkpointHash",
  to_char(checkpoint_at at time zone 'UTC', ${MICRO_UTC}) as "checkpointAt"`);

/** SQL for the audit log (no rules here: see service.ts). */
export class AuditRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** The hot path: one INSERT in the caller's transaction. */
  async insert(tx: Tx | Db, row: NewAuditRow): Promise<void> {
    await tx.insert(auditEntries).values(row);
  }

  /** The INSERT of one entry, not sent: for a {@link WriteBatch}. */
  insertSql(row: NewAuditRow): SQL {
    // A plain template (not the query builder): it is on every case transition's path.
    return sql`insert into ${auditEntries} (id, at, actor_kind, actor_id, on_behalf_of, action, target_type,
        target_id, purpose, outcome, request_id, client_ip, details)
      values (${row.id}::uuid, coalesce(${row.at ? row.at.toISOString() : null}::timestamptz, now()),
        ${row.actorKind}, ${row.actorId}, ${row.onBehalfOf ?? null}, ${row.action}, ${row.targetType ?? null},
        ${row.targetId ?? null}, ${row.purpose ?? null}, ${row.outcome ?? 'ok'}, ${row.requestId ?? null},
        ${row.clientIp ?? null}, ${JSON.stringify(row.details ?? {})}::jsonb)`;
  }

  /** Creates the head row when missing (concurrent creators: one wins, the others do nothing). */
  async ensureHead(tx: Tx | Db, genesis: string): Promise<void> {
    await tx
      .insert(auditChain)
      .values({ id: 1, headSeq: 0, headHash: genesis, checkpointSeq: 0, checkpointHash: genesis })
      .onConflictDoNothing();
  }

  /** Locks the head row; `skipLocked`: null at once when another transaction holds it. */
  async lockHead(tx: Tx, options: { skipLocked: boolean }): Promise<ChainHead | null> {
    const mode = options.skipLocked ? sql`for update skip locked` : sql`for update`;
    const r = await tx.execute(sql`select ${HEAD_COLUMNS} from audit_chain where id = 1 ${mode}`);
    return headOf(rowsOf<Record<string, unknown>>(r)[0]);
  }

  async readHead(db: Tx | Db = this.db): Promise<ChainHead | null> {
    const r = await db.execute(sql`select ${HEAD_COLUMNS} from audit_chain where id = 1`);
    return headOf(rowsOf<Record<string, unknown>>(r)[0]);
  }

  /** Committed entries without a chain position, oldest first by (at, id). */
  async unchained(tx: Tx, limit: number): Promise<StoredAuditEntry[]> {
    const r = await tx.execute(
      sql`select ${COLUMNS} from audit_entries where chain_seq is null order by at, id limit ${limit}`,
    );
    return normalise(rowsOf<StoredAuditEntry>(r));
  }

  async setChained(tx: Tx, rows: { id: string; seq: number; hash: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await tx.execute(sql`
      update audit_entries as e set chain_seq = v.seq, hash = v.hash
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, seq bigint, hash text)
      where e.id = v.id and e.chain_seq is null`);
  }

  async setHead(tx: Tx, seq: number, hash: string): Promise<void> {
    await tx.execute(
      sql`update audit_chain set head_seq = ${seq}, head_hash = ${hash}, updated_at = now() where id = 1`,
    );
  }

  /** Chained entries after position `afterSeq`, in chain order (keyset on the unique chain_seq index). */
  async chainedAfter(db: Tx | Db, afterSeq: number, limit: number): Promise<StoredAuditEntry[]> {
    const r = await db.execute(
      sql`select ${COLUMNS} from audit_entries where chain_seq > ${afterSeq} order by chain_seq limit ${limit}`,
    );
    return normalise(rowsOf<StoredAuditEntry>(r));
  }

  async countPending(db: Tx | Db = this.db): Promise<number> {
    const r = await db.execute(sql`select count(*) as n from audit_entries where chain_seq is null`);
    return toInt(rowsOf<{ n: unknown }>(r)[0]!.n);
  }

  /** Deletes chain positions `afterSeq < chain_seq ≤ throughSeq`. @returns rows deleted. */
  async deleteChained(tx: Tx, afterSeq: number, throughSeq: number): Promise<number> {
    const r = await tx.execute(
      sql`delete from audit_entries where chain_seq > ${afterSeq} and chain_seq <= ${throughSeq}`,
    );
    return (
      (r as { rowCount?: number | null; affectedRows?: number }).rowCount ??
      (r as { affectedRows?: number }).affectedRows ??
      0
    );
  }

  async setCheckpoint(tx: Tx, seq: number, hash: string, at: string): Promise<void> {
    await tx.execute(sql`update audit_chain set checkpoint_seq = ${seq}, checkpoint_hash = ${hash},
      checkpoint_at = ${at}::timestamptz, updated_at = now() where id = 1`);
  }

  /** Newest first by (at, id), filtered; `limit` rows. */
  async list(f: AuditListFilter): Promise<StoredAuditEntry[]> {
    const where: SQL[] = [];
    if (f.actorId !== undefined) where.push(sql`actor_id = ${f.actorId}`);
    if (f.action !== undefined) where.push(sql`action = ${f.action}`);
    if (f.targetType !== undefined) where.push(sql`target_type = ${f.targetType}`);
    if (f.targetId !== undefined) where.push(sql`target_id = ${f.targetId}`);
    if (f.from !== undefined) where.push(sql`at >= ${f.from.toISOString()}::timestamptz`);
    if (f.to !== undefined) where.push(sql`at < ${f.to.toISOString()}::timestamptz`);
    if (f.before !== undefined)
      where.push(sql`(at, id) < (${f.before.at}::timestamptz, ${f.before.id}::uuid)`);
    if (f.actionPrefixes !== undefined) {
      const parts = f.actionPrefixes.map((a) =>
        a.endsWith('.')
          ? sql`action like ${`${a.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`
          : sql`action = ${a}`,
      );
      where.push(parts.length > 0 ? sql`(${sql.join(parts, sql` or `)})` : sql`false`);
    }
    if (f.places !== undefined) {
      const parts = [
        ...f.places.divisions.map((d) => sql`details->>'divisionCode' like ${`${d}%`}`),
        ...f.places.halls.map((h) => sql`details->>'hallCode' = ${h}`),
      ];
      where.push(parts.length > 0 ? sql`(${sql.join(parts, sql` or `)})` : sql`false`);
    }
    const cond = where.length > 0 ? sql`where ${sql.join(where, sql` and `)}` : sql``;
    const r = await this.db.execute(
      sql`select ${COLUMNS} from audit_entries ${cond} order by at desc, id desc limit ${f.limit}`,
    );
    return normalise(rowsOf<StoredAuditEntry>(r));
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { AppError, invalid } from '../../../domain/errors.ts';
import { isValidIdentityNumber } from '../../../domain/identity-number.ts';
import type { WriteBatch } from '../../db/batch.ts';
import type { Db, Tx } from '../../db/index.ts';
import { MIN_AUDIT_RETENTION_DAYS } from './config.ts';
import {
  type AuditListFilter,
  AuditRepository,
  type ChainHead,
  type StoredAuditEntry,
} from './repository.ts';

/** The hash that precedes chain position 1: 64 zero hex digits. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Stable dotted action names: `case.accept`, `auth.login`, `grant.create`, `pii.read_full`, `admin.catalog_import`. */
export const AUDIT_ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Largest accepted `details`, bytes of JSON (an audit entry records facts, not documents). */
export const AUDIT_DETAILS_MAX_BYTES = 8192;

const short = (max: number) => z.string().trim().min(1).max(max);

/**
 * One audit entry as a module appends it (GB/T 39786-2021 §8.1.4.3 / 等保 2.0 安全审计: who, when,
 * what, on what, with which outcome, from where).
 */
export const AuditEntryInputSchema = z
  .object({
    /** When it happened; default: the database's transaction time `now()`. */
    at: z.date().optional(),
    actor: z.object({
      /** e.g. applicant, agent, staff, system. */
      kind: z.string().regex(/^[a-z][a-z_]{0,31}$/, 'must be a lower-case word such as staff or system'),
      id: short(128),
      /** 帮办代办: the person the actor acted for (an account id, never an ID number). */
      onBehalfOf: short(128).optional(),
    }),
    action: z
      .string()
      .max(64)
      .regex(AUDIT_ACTION_PATTERN, 'must be a dotted lower-case name such as case.accept or pii.read_full'),
    target: z.object({ type: short(64), id: short(128) }).optional(),
    /** Why (required for `pii.read_full`). */
    purpose: short(500).optional(),
    outcome: z.enum(['ok', 'denied']).default('ok'),
    requestId: short(128).optional(),
    clientIp: z
      .string()
      .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address')
      .optional(),
    details: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type AuditEntryInput = z.input<typeof AuditEntryInputSchema>;

/** An entry as read back (API and `list`). `at` keeps microseconds: `2026-03-01T08:00:00.123456Z`. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: { kind: string; id: string; onBehalfOf: string | null };
  action: string;
  target: { type: string; id: string } | null;
  purpose: string | null;
  outcome: 'ok' | 'denied';
  requestId: string | null;
  clientIp: string | null;
  details: Record<string, unknown>;
  /** Chain position; null while pending (not yet chained). */
  chainSeq: number | null;
  hash: string | null;
}

/** The first broken link found by {@link AuditService.verify}. */
export interface AuditBrokenLink {
  /** The chain position that fails. */
  chainSeq: number;
  /** The entry found at (or, for a deleted position, right after) that position; null when the end of the log was deleted. */
  id: string | null;
  /** What is wrong, in words: deleted, changed contents or position, changed hash, head mismatch. */
  reason: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  /** Chained entries whose hash was recomputed and matched, before the first broken link. */
  checked: number;
  /** Verification started after this position (the pruning checkpoint; 0 = from the first entry). */
  from: number;
  /** The chain head (last chained position and its hash): record it elsewhere to detect a rewritten tail. */
  head: { chainSeq: number; hash: string };
  /** Committed entries not chained yet (not covered by this verification). */
  pending: number;
  firstBroken?: AuditBrokenLink;
}

export interface AuditPruneResult {
  /** Entries deleted. */
  pruned: number;
  /** Entries older than this instant are past retention (now − retentionDays). */
  cutoff: Date;
  /** The checkpoint verification now starts from (null when nothing was ever pruned). */
  checkpoint: { chainSeq: number; hash: string; at: string } | null;
}

export interface AuditListQuery {
  actorId?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** Inclusive lower bound on `at`. */
  from?: Date | undefined;
  /** Exclusive upper bound on `at`. */
  to?: Date | undefined;
  /** The `next` of the previous page. */
  cursor?: string | undefined;
  /** Page size, 1–200 (default 50). */
  limit?: number | undefined;
  /** See AuditListFilter.actionPrefixes. */
  actionPrefixes?: readonly string[] | undefined;
  /** See AuditListFilter.places. */
  places?: { divisions: readonly string[]; halls: readonly string[] } | undefined;
}

/** Keys that must never appear in details (compared lower-case without `_`/`-`): exact words… */
const SENSITIVE_EXACT = new Set([
  'otp',
  'totp',
  'hotp',
  'pin',
  'pwd',
  'tel',
  'smscode',
  'otpcode',
  'authcode',
  'verificationcode',
  'verifycode',
  'pickupcode',
  'captcha',
  'cookie',
  'authorization',
  'idno',
  'sfzh',
  'mobile',
]);
/** …and fragments anywhere in a key. */
const SENSITIVE_FRAGMENTS = [
  'password',
  'passwd',
  'passcode',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'idnumber',
  'idcard',
  'identitynumber',
  'phone',
  'mobilenumber',
  'telephone',
];
/** Keys that announce a masked or hashed value are allowed (their values are still scanned). */
const SAFE_SUFFIXES = ['masked', 'hash', 'last4'];

const ID_NUMBER_IN_TEXT = /(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])/g;
const MOBILE_IN_TEXT = /(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9]{9}(?![0-9])/g;

/**
 * Whether a match sits inside a hexadecimal token (an SM3 digest, a UUID, a storage key): a run of hex
 * digits and hyphens of ≥ 20 characters holding at least one letter. Random digests contain 11- and
 * 18-digit decimal runs often enough (~0.3 % per SM3 digest) to fail the guard by chance otherwise.
 */
function insideHexToken(value: string, index: number, length: number): boolean {
  let start = index;
  let end = index + length;
  while (start > 0 && /[0-9a-fA-F-]/.test(value[start - 1]!)) start--;
  while (end < value.length && /[0-9a-fA-F-]/.test(value[end]!)) end++;
  return end - start >= 20 && /[a-fA-F]/.test(value.slice(start, end));
}

function sensitiveKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[_\-\s.]/g, '');
  if (SAFE_SUFFIXES.some((s) => k.endsWith(s) && k.length > s.length)) return false;
  return SENSITIVE_EXACT.has(k) || SENSITIVE_FRAGMENTS.some((f) => k.includes(f));
}

function sensitiveValue(value: string): string | null {
  for (const m of value.matchAll(ID_NUMBER_IN_TEXT)) {
    if (isValidIdentityNumber(m[0].toUpperCase()) && !insideHexToken(value, m.index, m[0].length))
      return 'a full resident ID number';
  }
  for (const m of value.matchAll(MOBILE_IN_TEXT)) {
    if (!insideHexToken(value, m.index, m[0].length)) return 'a full mobile phone number';
  }
  return null;
}

/**
 * The sensitive-details guard: audit details must never hold passwords, one-time or pickup codes,
 * tokens, secrets, full resident ID numbers (GB 11643) or phone numbers (个人信息保护法 art. 51; the log
 * is kept ≥ 184 days and read by auditors). Rejects such keys anywhere in the object (`password`,
 * `newPassword`, `otp`, `accessToken`, `idNumber`, `phone`, `pickupCode` …; keys ending in `Masked`,
 * `Hash` or `Last4` are allowed) and string or number values that contain a valid 18-digit ID number or
 * an 11-digit mobile number.
 * @throws AppError(validation, `audit.sensitive_details`) naming the field, e.g. `details.applicant.phone`.
 */
export function assertNoSensitiveDetails(details: unknown, path = 'details'): void {
  if (Array.isArray(details)) {
    details.forEach((v, i) => {
      assertNoSensitiveDetails(v, `${path}.${i}`);
    });
    return;
  }
  if (details && typeof details === 'object') {
    for (const [k, v] of Object.entries(details as Record<string, unknown>)) {
      const field = `${path}.${k}`;
      if (sensitiveKey(k)) {
        throw invalid(
          field,
          `Audit details must not carry passwords, one-time or pickup codes, tokens, secrets, ID numbers or phone numbers: remove "${k}" (or record a masked value under a key ending in "Masked").`,
          'audit.sensitive_details',
        );
      }
      assertNoSensitiveDetails(v, field);
    }
    return;
  }
  if (typeof details === 'string' || typeof details === 'number' || typeof details === 'bigint') {
    const what = sensitiveValue(String(details));
    if (what) {
      throw invalid(
        path,
        `Audit details must not contain ${what}: record the masked value (e.g. maskIdentityNumber) or an internal id instead.`,
        'audit.sensitive_details',
      );
    }
  }
}

/** Canonical JSON (keys sorted by UTF-16 code units, no spaces; RFC 8785 form for ordinary numbers). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The canonical form of an entry at chain position `chainSeq` (version 1): a JSON array of
 * `[1, chainSeq, id, at (UTC, microseconds), actorKind, actorId, onBehalfOf, action, targetType,
 * targetId, purpose, outcome, requestId, clientIp, details]`. The position is inside, so moving an
 * entry breaks its hash.
 */
export function canonicalEntry(e: StoredAuditEntry, chainSeq: number): string {
  return canonicalJson([
    1,
    chainSeq,
    e.id,
    e.at,
    e.actorKind,
    e.actorId,
    e.onBehalfOf,
    e.action,
    e.targetType,
    e.targetId,
    e.purpose,
    e.outcome,
    e.requestId,
    e.clientIp,
    e.details,
  ]);
}

/** `SM3(prevHash ‖ canonical)` as 64 lower-case hex digits (GB/T 32905-2016, Node's crypto). */
export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sm3').update(prevHash, 'utf8').update(canonical, 'utf8').digest('hex');
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function encodeCursor(e: StoredAuditEntry): string {
  return Buffer.from(JSON.stringify({ at: e.at, id: e.id })).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { at?: unknown; id?: unknown };
    if (typeof c.at === 'string' && CURSOR_AT.test(c.at) && typeof c.id === 'string' && UUID.test(c.id)) {
      return { at: c.at, id: c.id };
    }
  } catch {
    // fall through
  }
  throw invalid(
    'cursor',
    'The cursor is not one this API returned; start again without it.',
    'audit.cursor_invalid',
  );
}

function present(e: StoredAuditEntry): AuditEntry {
  return {
    id: e.id,
    at: e.at,
    actor: { kind: e.actorKind, id: e.actorId, onBehalfOf: e.onBehalfOf },
    action: e.action,
    target: e.targetType === null || e.targetId === null ? null : { type: e.targetType, id: e.targetId },
    purpose: e.purpose,
    outcome: e.outcome as AuditEntry['outcome'],
    requestId: e.requestId,
    clientIp: e.clientIp,
    details: e.details,
    chainSeq: e.chainSeq,
    hash: e.hash,
  };
}

/** `2026-03-01T08:00:00.123Z` → `2026-03-01T08:00:00.123000Z` (comparable with stored `at` text). */
const microText = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

const DAY_MS = 86_400_000;

/**
 * The audit module's public face: the tamper-evident audit log (审计日志) — append-only, SM3
 * hash-chained (GB/T 32905-2016), covering logins, grants, delegations, full-PII reads, case
 * transitions and admin changes (GB/T 39786-2021 §8.1.4.3, 等保 2.0 安全审计), kept at least
 * `retentionDays` (≥ 184, 网络安全法 art. 21).
 *
 * - `append(tx, entry)`: ONE INSERT in the caller's transaction, no lock — it exists iff `tx` commits.
 * - `chain(limit)`: run by each node's jobs loop; gives pending entries their chain position and hash
 *   under one head row locked FOR UPDATE SKIP LOCKED (several nodes never fork the chain).
 * - `verify()`: walks the chain in batches and names the first broken link.
 * - `prune()`: deletes chained entries past retention, leaving a checkpoint so verify stays green.
 * - `list(query)`: newest first, keyset-paginated, for auditors.
 */
export class AuditService {
  private readonly db: Db;
  private readonly repo: AuditRepository;
  /** Calendar days entries are kept (≥ 184). */
  readonly retentionDays: number;

  /**
   * @param options.retentionDays calendar days (default 184; from AUDIT_RETENTION_DAYS via loadAuditConfig).
   * @throws AppError(validation, `config.invalid`, field AUDIT_RETENTION_DAYS) below 184 days.
   */
  constructor(db: Db, options: { retentionDays?: number } = {}) {
    const days = options.retentionDays ?? MIN_AUDIT_RETENTION_DAYS;
    if (!Number.isInteger(days) || days < MIN_AUDIT_RETENTION_DAYS) {
      throw invalid(
        'AUDIT_RETENTION_DAYS',
        `Audit retention must be a whole number of at least ${MIN_AUDIT_RETENTION_DAYS} days (网络安全法 art. 21: at least six months); got ${days}.`,
        'config.invalid',
      );
    }
    this.db = db;
    this.repo = new AuditRepository(db);
    this.retentionDays = days;
  }

  /**
   * Appends one entry with a single INSERT in the caller's transaction `tx` (pass the transaction of
   * the change being audited so the entry exists iff the change commits; pass the `Db` for events with
   * no transaction, e.g. a refused login). Takes no lock and reads nothing: safe on the hottest path.
   * The entry is chained later by {@link chain}.
   * @returns the new entry's id (a UUID).
   * @throws AppError(validation, `audit.invalid_entry`) naming the field (`entry.action`, …);
   *         AppError(validation, `audit.purpose_required`) for `pii.read_full` without a purpose;
   *         AppError(validation, `audit.sensitive_details`) when details carry secrets or full PII
   *         (see {@link assertNoSensitiveDetails}); AppError(validation, `audit.details_too_large`)
   *         past {@link AUDIT_DETAILS_MAX_BYTES}.
   */
  async append(tx: Tx | Db, entry: AuditEntryInput): Promise<{ id: string }> {
    const row = this.rowOf(entry);
    await this.repo.insert(tx, row);
    return { id: row.id };
  }

  /**
   * Queues one entry on the caller's {@link WriteBatch}: written in the same statement as the change it
   * records, when the caller flushes the batch in its transaction. Same checks and errors as
   * {@link append} (thrown here, before anything is written).
   */
  appendLater(batch: WriteBatch, entry: AuditEntryInput): { id: string } {
    const row = this.rowOf(entry);
    batch.add(this.repo.insertSql(row));
    return { id: row.id };
  }

  /** Validates an entry and makes its row. @throws as {@link append}. */
  private rowOf(entry: AuditEntryInput) {
    const parsed = AuditEntryInputSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = ['entry', ...issue.path.map(String)].join('.');
      throw invalid(field, `Audit entry field ${field} ${issue.message}.`, 'audit.invalid_entry');
    }
    const e = parsed.data;
    if (e.action === 'pii.read_full' && e.purpose === undefined) {
      throw invalid(
        'entry.purpose',
        'A full personal-data read (pii.read_full) must record its purpose (个人信息保护法 art. 6): pass purpose.',
        'audit.purpose_required',
      );
    }
    assertNoSensitiveDetails(e.details);
    // The stated purpose is free text too: it must not smuggle the data it justifies reading.
    if (e.purpose !== undefined) assertNoSensitiveDetails(e.purpose, 'purpose');
    const json = JSON.stringify(e.details);
    if (Buffer.byteLength(json) > AUDIT_DETAILS_MAX_BYTES) {
      throw invalid(
        'entry.details',
        `Audit details are limited to ${AUDIT_DETAILS_MAX_BYTES} bytes of JSON: record ids and short facts, not documents.`,
        'audit.details_too_large',
      );
    }
    const id = randomUUID();
    return {
      id,
      ...(e.at ? { at: e.at } : {}),
      actorKind: e.actor.kind,
      actorId: e.actor.id,
      onBehalfOf: e.actor.onBehalfOf ?? null,
      action: e.action,
      targetType: e.target?.type ?? null,
      targetId: e.target?.id ?? null,
      purpose: e.purpose ?? null,
      outcome: e.outcome,
      requestId: e.requestId ?? null,
      clientIp: e.clientIp ?? null,
      details: e.details,
    };
  }

  /**
   * Appends one entry on its own (autocommit), for events that have no transaction of their own: a
   * refused login, a read. Same checks and errors as {@link append}.
   */
  record(entry: AuditEntryInput): Promise<{ id: string }> {
    return this.append(this.db, entry);
  }

  /**
   * Chains up to `limit` committed pending entries in ONE transaction: locks the head row FOR UPDATE
   * SKIP LOCKED (another node chaining → returns 0 at once), takes pending entries ordered by (at, id),
   * gives them positions head+1, head+2, … and `hash = SM3(prevHash ‖ canonical(entry))`, moves the
   * head. Entries of transactions still open are not visible and are chained by a later call.
   * @param limit entries per call, 1–5000 (default 500).
   * @returns how many entries were chained.
   */
  async chain(limit = 500): Promise<number> {
    const n = Math.max(1, Math.min(5000, Math.trunc(limit)));
    return this.db.transaction(async (tx) => {
      const head = await this.lockOrCreateHead(tx);
      if (!head) return 0;
      const rows = await this.repo.unchained(tx, n);
      if (rows.length === 0) return 0;
      let seq = head.headSeq;
      let prev = head.headHash;
      const chained = rows.map((r) => {
        seq += 1;
        prev = chainHash(prev, canonicalEntry(r, seq));
        return { id: r.id, seq, hash: prev };
      });
      await this.repo.setChained(tx, chained);
      await this.repo.setHead(tx, seq, prev);
      return rows.length;
    });
  }

  /** Chains until nothing is pending (or `max` entries); @returns how many were chained. */
  async chainAll(max = 1_000_000): Promise<number> {
    let total = 0;
    for (let n = await this.chain(1000); n > 0 && total < max; n = await this.chain(1000)) total += n;
    return total;
  }

  private async lockOrCreateHead(tx: Tx): Promise<ChainHead | null> {
    const head = await this.repo.lockHead(tx, { skipLocked: true });
    if (head) return head;
    if (await this.repo.readHead(tx)) return null; // another node holds it
    await this.repo.ensureHead(tx, AUDIT_GENESIS_HASH);
    return this.repo.lockHead(tx, { skipLocked: true });
  }

  /**
   * Verifies the chain from the pruning checkpoint to the head, reading `batchSize` entries at a time
   * (memory does not grow with the log), in one read-only REPEATABLE READ snapshot so concurrent chaining
   * or pruning cannot produce false alarms. Detects a changed entry (any field, including `at` to the
   * microsecond), a changed hash, a deleted entry (a gap in positions, or a cut-off end compared with the
   * head), a moved entry (its position is hashed) and a head that does not match its entry.
   * Pending (unchained) entries are counted, not verified: call {@link chain} first.
   * @returns `{ ok, checked, from, head, pending, firstBroken? }`.
   */
  async verify(
    options: {
      batchSize?: number;
      /** A head recorded earlier OUTSIDE the database (printed by verify): it must still be in the chain. */
      expectHead?: { chainSeq: number; hash: string };
      /** The current instant (tests); the checkpoint must be older than the legal retention. */
      now?: Date;
    } = {},
  ): Promise<AuditVerifyResult> {
    const batchSize = Math.max(1, Math.min(10_000, options.batchSize ?? 2000));
    const now = options.now ?? new Date();
    return this.db.transaction(
      async (tx) => {
        const head = (await this.repo.readHead(tx)) ?? {
          headSeq: 0,
          headHash: AUDIT_GENESIS_HASH,
          checkpointSeq: 0,
          checkpointHash: AUDIT_GENESIS_HASH,
          checkpointAt: null,
        };
        const pending = await this.repo.countPending(tx);
        const base = {
          from: head.checkpointSeq,
          head: { chainSeq: head.headSeq, hash: head.headHash },
          pending,
        };
        let checked = 0;
        let expected = head.checkpointSeq + 1;
        let prev = head.checkpointHash;
        let lastId: string | null = null;
        const broken = (firstBroken: AuditBrokenLink): AuditVerifyResult => ({
          ok: false,
          checked,
          ...base,
          firstBroken,
        });
        if (head.checkpointSeq > 0) {
          // Pruning deletes every entry up to its checkpoint, and only past the legal retention: a checkpoint
          // moved forward over entries still present, or a recent one, hides entries from verification.
          const [first] = await this.repo.chainedAfter(tx, 0, 1);
          if (first && first.chainSeq! <= head.checkpointSeq) {
            return broken({
              chainSeq: first.chainSeq!,
              id: first.id,
              reason: `entry ${first.id} at position ${first.chainSeq} lies at or before the pruning checkpoint (${head.checkpointSeq}) yet was not pruned: the checkpoint in audit_chain was moved in the database`,
            });
          }
          const at = head.checkpointAt === null ? null : new Date(head.checkpointAt);
          const floor = new Date(now.getTime() - MIN_AUDIT_RETENTION_DAYS * 86_400_000);
          if (at === null || !(at <= floor)) {
            return broken({
              chainSeq: head.checkpointSeq,
              id: null,
              reason: `the pruning checkpoint (position ${head.checkpointSeq}) is dated ${at?.toISOString() ?? 'nowhere'}, within the legal retention of ${MIN_AUDIT_RETENTION_DAYS} days: entries were deleted early, or the checkpoint was written in the database`,
            });
          }
        }
        if (options.expectHead) {
          const want = options.expectHead;
          const [at] = await this.repo.chainedAfter(tx, want.chainSeq - 1, 1);
          if (!at || at.chainSeq !== want.chainSeq || at.hash !== want.hash) {
            return broken({
              chainSeq: want.chainSeq,
              id: at?.id ?? null,
              reason: `the head recorded outside the database (position ${want.chainSeq}, hash ${want.hash.slice(0, 12)}…) is not in the chain: entries were removed or the chain was rewritten`,
            });
          }
        }
        for (;;) {
          const rows = await this.repo.chainedAfter(tx, expected - 1, batchSize);
          for (const [i, row] of rows.entries()) {
            const seq = row.chainSeq!;
            if (seq > head.headSeq) {
              return broken({
                chainSeq: seq,
                id: row.id,
                reason: `entry ${row.id} has chain position ${seq}, beyond the chain head (${head.headSeq}): it was not chained by tongban (inserted or renumbered directly in the database)`,
              });
            }
            if (seq !== expected) {
              const range =
                seq - 1 > expected ? `positions ${expected}–${seq - 1} are` : `position ${expected} is`;
              return broken({
                chainSeq: expected,
                id: row.id,
                reason: `chain ${range} missing: deleted from the database (the next entry present is ${row.id} at position ${seq})`,
              });
            }
            const recomputed = chainHash(prev, canonicalEntry(row, seq));
            if (row.hash !== recomputed) {
              const next = rows[i + 1] ?? (await this.repo.chainedAfter(tx, seq, 1))[0];
              const hashOnly =
                row.hash !== null &&
                (next
                  ? next.chainSeq === seq + 1 &&
                    next.hash === chainHash(recomputed, canonicalEntry(next, seq + 1))
                  : head.headSeq === seq && head.headHash === recomputed);
              return broken({
                chainSeq: seq,
                id: row.id,
                reason:
                  row.hash === null
                    ? `entry ${row.id} at position ${seq} has no hash: it was erased in the database`
                    : hashOnly
                      ? `the stored hash of entry ${row.id} at position ${seq} was changed in the database (its contents still fit the chain)`
                      : `entry ${row.id} at position ${seq} was changed after it was chained: its contents or position no longer match its hash`,
              });
            }
            prev = row.hash;
            lastId = row.id;
            expected += 1;
            checked += 1;
          }
          if (rows.length < batchSize) break;
        }
        if (expected - 1 < head.headSeq) {
          return broken({
            chainSeq: expected,
            id: null,
            reason: `chain positions ${expected}–${head.headSeq} are missing: the newest entries were deleted from the database (the chain head is at ${head.headSeq})`,
          });
        }
        if (prev !== head.headHash) {
          return broken({
            chainSeq: head.headSeq,
            id: lastId,
            reason: `the chain head's hash does not match entry ${lastId ?? '(checkpoint)'} at position ${head.headSeq}: the head record (audit_chain) was changed`,
          });
        }
        return { ok: true, checked, ...base };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }

  /**
   * Deletes chained entries past retention — those with `at` before now − retentionDays (calendar
   * days), as a prefix of the chain: it stops at the first entry still within retention, so an entry is
   * never kept less than retentionDays (网络安全法 art. 21). Pending entries are never pruned. Each batch
   * (one transaction, head locked) first re-verifies the entries it deletes and records the last one's
   * position and hash as the checkpoint, from which {@link verify} then starts.
   * @param options.now the present (tests); options.batchSize entries per transaction (default 5000).
   * @throws AppError(conflict, `audit.chain_broken`) when an entry about to be pruned fails verification
   *         (evidence is not deleted; run `tongban audit verify`).
   */
  async prune(options: { now?: Date; batchSize?: number } = {}): Promise<AuditPruneResult> {
    const cutoff = new Date((options.now ?? new Date()).getTime() - this.retentionDays * DAY_MS);
    const cutoffText = microText(cutoff);
    const batchSize = Math.max(1, Math.min(50_000, options.batchSize ?? 5000));
    let pruned = 0;
    let checkpoint: AuditPruneResult['checkpoint'] = null;
    for (;;) {
      const step = await this.db.transaction(async (tx) => {
        const head = await this.repo.lockHead(tx, { skipLocked: false });
        if (!head) return { n: 0, more: false, head: null };
        const rows = await this.repo.chainedAfter(tx, head.checkpointSeq, batchSize);
        let prev = head.checkpointHash;
        let expected = head.checkpointSeq + 1;
        let last: StoredAuditEntry | null = null;
        let reachedRetained = false;
        for (const row of rows) {
          if (row.at >= cutoffText) {
            reachedRetained = true;
            break;
          }
          if (row.chainSeq !== expected || row.hash !== chainHash(prev, canonicalEntry(row, expected))) {
            throw new AppError(
              'conflict',
              'audit.chain_broken',
              `Pruning stopped: the audit chain is broken at position ${expected} (entry ${row.id}); nothing was deleted in this batch. Run \`tongban audit verify\` and investigate before pruning.`,
            );
          }
          prev = row.hash;
          expected += 1;
          last = row;
        }
        if (!last) return { n: 0, more: false, head };
        const n = await this.repo.deleteChained(tx, head.checkpointSeq, last.chainSeq!);
        await this.repo.setCheckpoint(tx, last.chainSeq!, last.hash!, last.at);
        return {
          n,
          more: !reachedRetained && rows.length === batchSize,
          head: { ...head, checkpointSeq: last.chainSeq!, checkpointHash: last.hash!, checkpointAt: last.at },
        };
      });
      pruned += step.n;
      if (step.head && step.head.checkpointSeq > 0) {
        checkpoint = {
          chainSeq: step.head.checkpointSeq,
          hash: step.head.checkpointHash,
          at: step.head.checkpointAt ?? '',
        };
      }
      if (!step.more) break;
    }
    return { pruned, cutoff, checkpoint };
  }

  /**
   * Entries newest first by (at, id), filtered by actor id, action, target and time (`from` inclusive,
   * `to` exclusive), keyset-paginated: pass `next` back as `cursor` (no COUNT over the table). Includes
   * pending entries (chainSeq null).
   * @throws AppError(validation) for a limit outside 1–200 (`limit`), an invalid date (`from`/`to`) or
   *         a cursor this API did not return (`audit.cursor_invalid`).
   */
  async list(query: AuditListQuery = {}): Promise<{ items: AuditEntry[]; next: string | null }> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw invalid('limit', 'limit must be a whole number from 1 to 200.');
    }
    for (const k of ['from', 'to'] as const) {
      const d = query[k];
      if (d !== undefined && Number.isNaN(d.getTime())) {
        throw invalid(k, `${k} must be an ISO 8601 instant such as 2026-03-01T00:00:00+08:00.`);
      }
    }
    const filter: AuditListFilter = {
      actorId: query.actorId,
      action: query.action,
      targetType: query.targetType,
      targetId: query.targetId,
      from: query.from,
      to: query.to,
      before: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      actionPrefixes: query.actionPrefixes,
      places: query.places,
      limit: limit + 1,
    };
    const rows = await this.repo.list(filter);
    const page = rows.slice(0, limit);
    return {
      items: page.map(present),
      next: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null,
    };
  }

  /** Committed entries not chained yet. */
  pending(): Promise<number> {
    return this.repo.countPending();
  }
}

import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { AppError, invalid, notFound } from '../../../domain/errors.ts';
import { parseIdentityNumber } from '../../../domain/identity-number.ts';
import { grantInForce } from '../../../domain/roles.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import {
  checkPngStructure,
  contentTypeOfKey,
  putScan,
  readVerifiedScan,
  scanContentType,
  UPLOAD_CONTENT_TYPES,
  type UploadContentType,
} from '../storage/scans.ts';
import type { FileBody, FileStore } from '../storage/service.ts';
import { checkItemCodes, forbidden, requirePrincipal } from './policy.ts';
import type { Principal } from './principal.ts';
import type { IdentityRepository } from './repository.ts';
import { agentAuthorizations } from './schema.ts';

type Row = typeof agentAuthorizations.$inferSelect;

/** An agent authorization as the API shows it (ISO 8601 times; no ID number, ever). */
export interface AgentAuthorizationView {
  id: string;
  agentAccountId: string;
  agentName: string | null;
  residentAccountId: string;
  /** null: every item. */
  itemCodes: string[] | null;
  validFrom: string;
  validUntil: string;
  evidence: {
    kind: 'signed_form' | 'in_app' | 'on_screen_signature';
    fileKey: string | null;
    sm3: string | null;
    reference: string | null;
  };
  status: 'pending' | 'active' | 'revoked';
  /** Active and within its validity at the time of the answer. */
  inForce: boolean;
  consentedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
  createdAt: string;
}

/**
 * What an agent asks for (`POST /api/v1/agent-authorizations`).
 * - `resident`: the resident's account id, or their resident ID number (looked up through the blind index;
 *   neither stored nor returned in clear);
 * - `itemCodes`: 12-digit basic codes, or null / absent for every item;
 * - `validUntil`: after now and at most one year after `validFrom` (default now);
 * - `evidence`: `signed_form` (SM3 digest of the scan, and the storage key of the uploaded scan and/or the
 *   form's reference) — pending until the scan with that digest is uploaded; `on_screen_signature` (the
 *   resident signs on the agent's phone: SM3 digest of the signature PNG, optionally a reference) — pending
 *   until that PNG is uploaded, exactly like a scan; or `in_app` — pending until the resident consents while
 *   signed in. Either way the resident may consent in-app to a pending one.
 */
export interface AgentAuthorizationRequest {
  resident: { accountId: string } | { idNumber: string };
  itemCodes?: string[] | null | undefined;
  validFrom?: Date | undefined;
  validUntil: Date;
  evidence:
    | { kind: 'in_app' }
    | { kind: 'signed_form'; sm3: string; fileKey?: string | undefined; reference?: string | undefined }
    | { kind: 'on_screen_signature'; sm3: string; reference?: string | undefined };
}

/** Evidence kinds proved by an uploaded file whose SM3 digest was recorded (a scan, or a signature PNG). */
const FILE_EVIDENCE = new Set(['signed_form', 'on_screen_signature']);

/** The agent authorization behind a submission, as the case engine needs it. */
export interface AgentAuthorizationCheck {
  /** The id of the authorization (`agent.authorizationRef`). */
  ref: string;
  /** The acting principal's account id. */
  agentAccountId: string;
  /** The applicant's resident ID number (natural persons), or null. */
  applicantIdNumber: string | null;
  /** Every item the application files (the main item and those of its parts). */
  itemCodes: readonly string[];
  at: Date;
}

/** What the agent authorizations use of other modules. */
interface AuthorizationDeps {
  audit: AuditService | undefined;
  idNumberIndex: (idNumber: string) => string;
  /** Where scans of signed forms are kept (the storage module's file store). */
  files?: FileStore | undefined;
  /** Client retry keys: a recording replayed from the agent's offline outbox is answered, not repeated. */
  idempotency?: Pick<IdempotencyService, 'run'> | undefined;
}

/** Scans of signed forms: PDF, JPEG or PNG (no untyped bytes). */
export const SIGNED_FORM_CONTENT_TYPES: readonly UploadContentType[] = [
  'application/pdf',
  'image/jpeg',
  'image/png',
];

/** A signed form's scan as downloaded: its bytes, verified against the recorded SM3 digest. */
export interface SignedFormFile {
  body: Buffer;
  contentType: string;
  sm3: string;
  fileKey: string;
}

const MAX_VALIDITY_MS = 366 * 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AGENT_ROLES = new Set(['helper', 'village_agent']);

/**
 * 帮办代办 consent (委托授权): an agent — staff holding the role 帮办员 `helper` or 村级代办员 `village_agent` in
 * force — may act for a resident only under an authorization record: who, for whom, which items, until
 * when, and the evidence (a scan of a signed form, or consent the resident gives in the app while signed
 * in). The resident sees every authorization naming them and revokes any at once; the agent sees theirs.
 * Legal basis: 行政许可法 art. 29 (an application may be filed through an entrusted agent, 委托代理人),
 * 个人信息保护法 art. 13/14 (processing the resident's personal data on their informed, voluntary and
 * explicit consent, which they may withdraw, art. 15). Every create / consent / revoke is ONE transaction
 * with its audit entry (`agent_authorization.create|consent|revoke`), the actor being the agent acting for
 * (`onBehalfOf`) the resident, or the resident themself.
 */
export class AgentAuthorizationsService {
  private readonly db: Db;
  private readonly repo: IdentityRepository;
  private readonly deps: AuthorizationDeps;
  private readonly clock: () => Date;

  constructor(db: Db, repo: IdentityRepository, deps: AuthorizationDeps, clock: () => Date) {
    this.db = db;
    this.repo = repo;
    this.deps = deps;
    this.clock = clock;
  }

  /**
   * An agent records an authorization; it is `pending` until its evidence is in: for `signed_form` and
   * `on_screen_signature`, the scan or signature PNG whose SM3 digest was recorded is uploaded
   * ({@link uploadSignedForm}); for `in_app` (or a paper form kept at the hall without a scan), the resident
   * consents while signed in ({@link consent}).
   * With `options.idempotencyKey` (the agent's phone replaying from its offline outbox) the recording is
   * idempotent: the same key and request answer the first result and record nothing new; the same key with
   * a different request is 409 `idempotency.key_reused`.
   * @throws 400 naming the field (`resident`, `resident.idNumber`, `itemCodes`, `validUntil`,
   *   `evidence.sm3`, `evidence.reference`, `Idempotency-Key`), nothing written; 401; 403
   *   `agent_authorization.not_agent` (no helper / village_agent grant in force); 404 `account.not_found`
   *   (no resident account with that id or ID number, field `resident`); 409 `idempotency.key_reused`.
   */
  async create(
    principal: Principal | null,
    input: AgentAuthorizationRequest,
    options: { idempotencyKey?: string | undefined } = {},
  ): Promise<AgentAuthorizationView> {
    const p = requirePrincipal(principal);
    const now = this.clock();
    if (p.kind !== 'staff' || !p.grants.some((g) => grantInForce(g, now) && AGENT_ROLES.has(g.role)))
      throw forbidden(
        'agent_authorization.not_agent',
        'Only agents (帮办员 helper / 村级代办员 village_agent, by a grant in force) record authorizations.',
      );
    const validFrom = input.validFrom ?? now;
    const validUntil = input.validUntil;
    if (
      !(validUntil instanceof Date) ||
      Number.isNaN(validUntil.getTime()) ||
      validUntil <= now ||
      validUntil <= validFrom
    )
      throw invalid(
        'validUntil',
        'validUntil must lie in the future and after validFrom.',
        'agent_authorization.invalid',
      );
    if (validUntil.getTime() - validFrom.getTime() > MAX_VALIDITY_MS)
      throw invalid(
        'validUntil',
        'An authorization lasts at most one year; record a new one when it ends.',
        'agent_authorization.invalid',
      );
    const items = checkItemCodes(input.itemCodes ?? null, 'agent_authorization.invalid');
    const ev = input.evidence;
    if (ev.kind === 'signed_form' || ev.kind === 'on_screen_signature') {
      if (!/^[0-9a-f]{64}$/i.test(ev.sm3 ?? ''))
        throw invalid(
          'evidence.sm3',
          ev.kind === 'signed_form'
            ? 'Give the SM3 digest (64 hex digits) of the scanned signed form.'
            : 'Give the SM3 digest (64 hex digits) of the signature PNG the resident drew on screen.',
          'agent_authorization.invalid',
        );
    }
    if (ev.kind === 'signed_form') {
      if (!ev.fileKey && !ev.reference?.trim())
        throw invalid(
          'evidence.reference',
          'Give the storage key of the uploaded scan or the form’s reference.',
          'agent_authorization.invalid',
        );
    }
    const resident = await this.resident(input.resident);
    const write = async (tx: Tx): Promise<AgentAuthorizationView> => {
      const [row] = await tx
        .insert(agentAuthorizations)
        .values({
          agentAccountId: p.accountId,
          agentName: p.name ?? null,
          agentHallCode: p.hallCode ?? null,
          residentAccountId: resident,
          itemCodes: items === null ? null : [...new Set(items)].sort(),
          validFrom,
          validUntil,
          evidenceKind: ev.kind,
          evidenceFileKey: ev.kind === 'signed_form' ? (ev.fileKey ?? null) : null,
          evidenceSm3: ev.kind === 'in_app' ? null : ev.sm3.toLowerCase(),
          evidenceReference: ev.kind === 'in_app' ? null : ev.reference?.trim() || null,
          // pending until the scan whose digest was recorded is uploaded, or the resident consents in-app
          // (a digest alone proves nothing: any 64 hex digits would do)
          status: 'pending',
          createdAt: now,
        })
        .returning();
      await this.deps.audit?.append(tx, {
        actor: { kind: 'agent', id: p.accountId, onBehalfOf: resident },
        action: 'agent_authorization.create',
        target: { type: 'agent_authorization', id: row!.id },
        details: {
          itemCodes: row!.itemCodes,
          validFrom: row!.validFrom.toISOString(),
          validUntil: row!.validUntil.toISOString(),
          evidence: row!.evidenceKind,
          status: row!.status,
          ...(options.idempotencyKey ? { offline: true } : {}),
        },
      });
      return view(row!, now);
    };
    if (options.idempotencyKey !== undefined && this.deps.idempotency) {
      const { validFrom: from, validUntil: until, ...rest } = input;
      const result = await this.deps.idempotency.run(
        `POST /api/v1/agent-authorizations|agent:${p.accountId}`,
        options.idempotencyKey,
        { ...rest, validFrom: from?.toISOString() ?? null, validUntil: until.toISOString() },
        (tx) => write(tx),
      );
      return result.value;
    }
    return this.db.transaction(write);
  }

  /**
   * The caller's authorizations, newest first: a resident's — those naming them — or an agent's (staff) —
   * those they recorded. History included (revoked and expired ones too). @throws 401.
   */
  async list(principal: Principal | null): Promise<AgentAuthorizationView[]> {
    const p = requirePrincipal(principal);
    const now = this.clock();
    const column =
      p.kind === 'staff' ? agentAuthorizations.agentAccountId : agentAuthorizations.residentAccountId;
    if (p.kind === 'legal_person_operator') return [];
    if (p.kind !== 'staff' && !UUID.test(p.accountId)) return [];
    const rows = await this.db
      .select()
      .from(agentAuthorizations)
      .where(eq(column, p.accountId))
      .orderBy(desc(agentAuthorizations.createdAt));
    return rows.map((r) => view(r, now));
  }

  /**
   * The resident consents, signed in, to a pending authorization naming them (in-app consent, or a signed
   * form whose scan is not uploaded): it becomes active.
   * @throws 401; 403 `agent_authorization.session_required` (consent is given in a resident's own session,
   *   not through a token or the development header); 404 `agent_authorization.not_found` (unknown, or not
   *   the caller's — existence is not revealed); 409 `agent_authorization.not_pending`.
   */
  async consent(principal: Principal | null, id: string): Promise<AgentAuthorizationView> {
    const p = requirePrincipal(principal);
    const now = this.clock();
    const existing = await this.mine(p, id, 'resident');
    if (p.via !== 'session')
      throw forbidden(
        'agent_authorization.session_required',
        'Consent is given by the resident signed in with their own session.',
      );
    if (existing.status !== 'pending' || existing.validUntil <= now)
      throw new AppError(
        'conflict',
        'agent_authorization.not_pending',
        `Authorization ${id} is ${existing.validUntil <= now ? 'expired' : existing.status}, not pending.`,
        { field: 'id' },
      );
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(agentAuthorizations)
        .set({ status: 'active', consentedAt: now })
        .where(and(eq(agentAuthorizations.id, id), eq(agentAuthorizations.status, 'pending')))
        .returning();
      if (!row)
        throw new AppError(
          'conflict',
          'agent_authorization.not_pending',
          `Authorization ${id} is not pending.`,
          { field: 'id' },
        );
      await this.deps.audit?.append(tx, {
        actor: { kind: 'applicant', id: p.accountId },
        action: 'agent_authorization.consent',
        target: { type: 'agent_authorization', id },
        details: { agentAccountId: row.agentAccountId },
      });
      return view(row, now);
    });
  }

  /**
   * Revokes an authorization at once (the next submission under it is refused): the resident it names, or
   * the agent who recorded it. `reason` optional (≤ 500 characters).
   * @throws 400 `reason`; 401; 404 `agent_authorization.not_found` (unknown, or neither the caller's as
   *   resident nor as agent); 409 `agent_authorization.revoked` (already revoked).
   */
  async revoke(principal: Principal | null, id: string, reason?: string): Promise<AgentAuthorizationView> {
    const p = requirePrincipal(principal);
    const why = reason?.trim() || null;
    if (why !== null && why.length > 500)
      throw invalid('reason', 'At most 500 characters.', 'agent_authorization.invalid');
    const now = this.clock();
    const existing = await this.mine(p, id, p.kind === 'staff' ? 'agent' : 'resident');
    if (existing.status === 'revoked')
      throw new AppError(
        'conflict',
        'agent_authorization.revoked',
        `Authorization ${id} is already revoked.`,
        { field: 'id' },
      );
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(agentAuthorizations)
        .set({ status: 'revoked', revokedAt: now, revokedBy: p.accountId, revokedReason: why })
        .where(and(eq(agentAuthorizations.id, id), isNull(agentAuthorizations.revokedAt)))
        .returning();
      if (!row)
        throw new AppError(
          'conflict',
          'agent_authorization.revoked',
          `Authorization ${id} is already revoked.`,
          { field: 'id' },
        );
      await this.deps.audit?.append(tx, {
        actor:
          p.kind === 'staff'
            ? { kind: 'agent', id: p.accountId, onBehalfOf: row.residentAccountId }
            : { kind: 'applicant', id: p.accountId },
        action: 'agent_authorization.revoke',
        target: { type: 'agent_authorization', id },
        ...(why ? { purpose: why } : {}),
        details: { agentAccountId: row.agentAccountId, residentAccountId: row.residentAccountId },
      });
      return view(row, now);
    });
  }

  /**
   * For the case engine (submit): the resident account an agent acts for, when `ref` is the id of an
   * ACTIVE authorization of that agent, in force at `at` (validFrom ≤ at < validUntil), covering every item
   * filed, for the resident whose ID number the applicant gives (matched through the blind index). Else
   * null — the caller refuses with 403 `case.agent_not_authorized`.
   */
  async verify(
    q: AgentAuthorizationCheck,
  ): Promise<{ residentAccountId: string; authorizationId: string } | null> {
    if (!UUID.test(q.ref) || q.applicantIdNumber === null) return null;
    const [row] = await this.db.select().from(agentAuthorizations).where(eq(agentAuthorizations.id, q.ref));
    if (!row || row.status !== 'active' || row.agentAccountId !== q.agentAccountId) return null;
    if (!(row.validFrom <= q.at && q.at < row.validUntil)) return null;
    if (row.itemCodes !== null && !q.itemCodes.every((c) => row.itemCodes!.includes(c))) return null;
    const resident = await this.repo.accountById(row.residentAccountId);
    let idNumber: string;
    try {
      idNumber = parseIdentityNumber(q.applicantIdNumber).value;
    } catch {
      return null;
    }
    if (
      !resident?.idNumberHash ||
      resident.disabledAt ||
      resident.idNumberHash !== this.deps.idNumberIndex(idNumber)
    )
      return null;
    return { residentAccountId: row.residentAccountId, authorizationId: row.id };
  }

  /**
   * For the case engine, after filing (帮办代办 resubmission, withdrawal, rating): an ACTIVE authorization of
   * `agentAccountId` for `residentAccountId` (the case's applicant-side account), in force at `at`, covering
   * every item of the case — the case's own `preferRef` first, else any other. Null when none (the caller
   * refuses with 403 `case.agent_not_authorized`).
   */
  async verifyForCase(q: {
    agentAccountId: string;
    residentAccountId: string;
    itemCodes: readonly string[];
    at: Date;
    preferRef?: string;
  }): Promise<{ residentAccountId: string; authorizationId: string } | null> {
    if (!UUID.test(q.residentAccountId)) return null;
    const rows = await this.db
      .select()
      .from(agentAuthorizations)
      .where(
        and(
          eq(agentAuthorizations.agentAccountId, q.agentAccountId),
          eq(agentAuthorizations.residentAccountId, q.residentAccountId),
          eq(agentAuthorizations.status, 'active'),
        ),
      );
    const fits = rows.filter(
      (r) =>
        r.validFrom <= q.at &&
        q.at < r.validUntil &&
        (r.itemCodes === null || q.itemCodes.every((c) => r.itemCodes!.includes(c))),
    );
    const row = fits.find((r) => r.id === q.preferRef) ?? fits[0];
    if (!row) return null;
    const resident = await this.repo.accountById(row.residentAccountId);
    if (!resident || resident.disabledAt) return null;
    return { residentAccountId: row.residentAccountId, authorizationId: row.id };
  }

  /**
   * Uploads the scan of the signed form (签字委托书扫描件) of a `signed_form` authorization — or the PNG of
   * the resident's signature drawn on the agent's screen (`on_screen_signature`, image/png only): the agent
   * who recorded it sends the bytes (Content-Type application/pdf, image/jpeg or image/png, at most
   * FILES_MAX_BYTES); they are stored in the file store and their SM3 digest (GB/T 32905) must equal the
   * digest recorded with the authorization — else nothing stays stored. A pending authorization comes into
   * force. A new upload replaces the file key (the old scan is kept in the store). Audited
   * (`agent_authorization.evidence_upload`, details.evidence naming the kind).
   * @throws 401; 404 `agent_authorization.not_found` (not the caller's as agent); 409
   *   `agent_authorization.not_signed_form` (in-app consent has no scan); 400
   *   `agent_authorization.content_type` / `.file_empty` / `.file_type_mismatch` / `.sm3_mismatch`, and
   *   `.png_invalid` for a signature that is not a whole PNG (IHDR ≤ 8000 × 8000 px first, IEND last);
   *   413 `file.too_large`; 503 `agent_authorization.files_unavailable` when no file store is configured.
   */
  async uploadSignedForm(
    principal: Principal | null,
    id: string,
    body: FileBody,
    declaredType: string | undefined,
  ): Promise<AgentAuthorizationView> {
    const p = requirePrincipal(principal);
    const existing = await this.mine(p, id, 'agent');
    const files = this.files();
    if (!FILE_EVIDENCE.has(existing.evidenceKind) || !existing.evidenceSm3)
      throw new AppError(
        'conflict',
        'agent_authorization.not_signed_form',
        `Authorization ${id} rests on in-app consent: there is no signed form to upload.`,
        { field: 'id' },
      );
    const signature = existing.evidenceKind === 'on_screen_signature';
    // an on-screen signature is the PNG the signature pad produced; a signed form a PDF, JPEG or PNG scan
    const contentType = scanContentType(
      declaredType,
      'agent_authorization',
      signature ? ['image/png'] : SIGNED_FORM_CONTENT_TYPES,
    );
    const fileKey = `${randomUUID()}.${UPLOAD_CONTENT_TYPES[contentType].ext}`;
    const key = signedFormKey(id, fileKey);
    const stored = await putScan(files, key, body, contentType, 'agent_authorization');
    let keep = false;
    try {
      if (stored.sm3 !== existing.evidenceSm3)
        throw invalid(
          'file',
          `The ${signature ? 'signature image' : 'scan'}'s SM3 digest ${stored.sm3} is not the one recorded with the authorization (${existing.evidenceSm3}): upload the ${signature ? 'PNG' : 'scan'} whose digest you recorded.`,
          'agent_authorization.sm3_mismatch',
        );
      // the signature is the evidence itself: a whole PNG, not 8 signature bytes in front of anything
      if (signature)
        checkPngStructure(
          await readVerifiedScan(files, key, stored, {
            tampered: () =>
              invalid(
                'file',
                'The upload changed while it was stored; send it again.',
                'agent_authorization.file_changed',
              ),
            missing: (e) => e,
          }),
          'agent_authorization',
        );
      const now = this.clock();
      const row = await this.db.transaction(async (tx) => {
        const [updated] = await tx
          .update(agentAuthorizations)
          .set({
            evidenceFileKey: fileKey,
            // the matching scan is the evidence: a pending authorization comes into force (not a revoked one)
            status: sql`case when ${agentAuthorizations.status} = 'pending' then 'active' else ${agentAuthorizations.status} end`,
          })
          .where(eq(agentAuthorizations.id, id))
          .returning();
        await this.deps.audit?.append(tx, {
          actor: { kind: 'agent', id: p.accountId, onBehalfOf: existing.residentAccountId },
          action: 'agent_authorization.evidence_upload',
          target: { type: 'agent_authorization', id },
          details: {
            evidence: existing.evidenceKind,
            fileKey,
            sm3: stored.sm3,
            bytes: stored.bytes,
            contentType,
          },
        });
        return updated!;
      });
      keep = true;
      return view(row, now);
    } finally {
      if (!keep) await files.delete(key).catch(() => {});
    }
  }

  /**
   * Downloads the scan of a signed form, verified against the recorded SM3 digest before any byte is
   * handed out. Who: the agent who recorded the authorization, the resident it names, and staff holding
   * `case.reveal_pii` (收件员, 受理员 — those who check identity documents) over the agent's hall. Every
   * download is audited (`agent_authorization.evidence_read`; the form carries personal data,
   * 个人信息保护法 art. 51).
   * @throws 401; 404 `agent_authorization.not_found` (unknown, or the caller may not read it) /
   *   `agent_authorization.no_scan` (nothing uploaded); 500 `agent_authorization.scan_tampered` /
   *   `agent_authorization.scan_missing`.
   */
  async downloadSignedForm(
    principal: Principal | null,
    id: string,
    staffMay: (agentHallCode: string | null) => boolean,
  ): Promise<SignedFormFile> {
    const p = requirePrincipal(principal);
    const missing = () => notFound('agent_authorization.not_found', `No authorization ${id} of yours.`, 'id');
    if (!UUID.test(id)) throw missing();
    const [row] = await this.db.select().from(agentAuthorizations).where(eq(agentAuthorizations.id, id));
    if (!row) throw missing();
    const isAgent = p.kind === 'staff' && row.agentAccountId === p.accountId;
    const isResident = p.kind === 'resident' && row.residentAccountId === p.accountId;
    if (!isAgent && !isResident && !(p.kind === 'staff' && staffMay(row.agentHallCode))) throw missing();
    if (!row.evidenceFileKey || !row.evidenceSm3)
      throw notFound(
        'agent_authorization.no_scan',
        `No scan of the signed form of authorization ${id} was uploaded (PUT /api/v1/agent-authorizations/${id}/signed-form).`,
        'id',
      );
    const files = this.files();
    const fileKey = row.evidenceFileKey;
    const where = `scan ${fileKey} of the signed form of authorization ${id}`;
    const body = await readVerifiedScan(
      files,
      signedFormKey(id, fileKey),
      { sm3: row.evidenceSm3 },
      {
        tampered: (found) =>
          new AppError(
            'internal',
            'agent_authorization.scan_tampered',
            `The stored ${where} does not match its recorded SM3 digest ${row.evidenceSm3} (found ${found}); it is not served. Operators: restore it from backup.`,
          ),
        missing: (cause) =>
          new AppError(
            'internal',
            'agent_authorization.scan_missing',
            `The stored ${where} is missing from the file store (${files.describe}). Operators: restore it from backup.`,
            { cause },
          ),
      },
    );
    await this.deps.audit?.record({
      actor:
        p.kind === 'staff'
          ? { kind: isAgent ? 'agent' : 'staff', id: p.accountId }
          : { kind: 'applicant', id: p.accountId },
      action: 'agent_authorization.evidence_read',
      target: { type: 'agent_authorization', id },
      details: { fileKey, residentAccountId: row.residentAccountId },
    });
    return { body, contentType: contentTypeOfKey(fileKey), sm3: row.evidenceSm3, fileKey };
  }

  // ------------------------------------------------------------------------------------------ internals

  private files(): FileStore {
    if (!this.deps.files)
      throw new AppError(
        'unavailable',
        'agent_authorization.files_unavailable',
        'No file store is configured for scans of signed forms.',
      );
    return this.deps.files;
  }

  private async resident(r: AgentAuthorizationRequest['resident']): Promise<string> {
    let account: Awaited<ReturnType<IdentityRepository['accountById']>>;
    if ('accountId' in r) {
      if (!UUID.test(r.accountId ?? ''))
        throw invalid(
          'resident.accountId',
          'Give the resident’s account id (a UUID).',
          'agent_authorization.invalid',
        );
      account = await this.repo.accountById(r.accountId);
    } else {
      const idNumber = parseIdentityNumber(r.idNumber, 'resident.idNumber').value;
      account = await this.repo.accountByIdNumberHash(this.deps.idNumberIndex(idNumber));
    }
    if (account?.kind !== 'resident' || account.disabledAt)
      throw notFound('account.not_found', 'No resident account with that id or ID number.', 'resident');
    return account.id;
  }

  /** The authorization, when the caller is its resident (or, `as: 'agent'`, its agent); else 404. */
  private async mine(p: Principal, id: string, as: 'resident' | 'agent'): Promise<Row> {
    const missing = () => notFound('agent_authorization.not_found', `No authorization ${id} of yours.`, 'id');
    if (!UUID.test(id)) throw missing();
    const [row] = await this.db.select().from(agentAuthorizations).where(eq(agentAuthorizations.id, id));
    if (!row) throw missing();
    const owner = as === 'agent' ? row.agentAccountId : row.residentAccountId;
    if (owner !== p.accountId || (as === 'resident' && p.kind !== 'resident')) throw missing();
    return row;
  }
}

function view(row: Row, now: Date): AgentAuthorizationView {
  return {
    id: row.id,
    agentAccountId: row.agentAccountId,
    agentName: row.agentName,
    residentAccountId: row.residentAccountId,
    itemCodes: row.itemCodes ?? null,
    validFrom: row.validFrom.toISOString(),
    validUntil: row.validUntil.toISOString(),
    evidence: {
      kind: row.evidenceKind,
      fileKey: row.evidenceFileKey,
      sm3: row.evidenceSm3,
      reference: row.evidenceReference,
    },
    status: row.status,
    inForce: row.status === 'active' && row.validFrom <= now && now < row.validUntil,
    consentedAt: row.consentedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revokedBy: row.revokedBy,
    revokedReason: row.revokedReason,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Where a signed form's scan lives in the file store. */
function signedFormKey(authorizationId: string, fileKey: string): string {
  return `agent-authorizations/${authorizationId}/${fileKey}`;
}

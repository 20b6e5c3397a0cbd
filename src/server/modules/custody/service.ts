import { randomUUID } from 'node:crypto';
import type { CaseActor } from '../../../domain/case-state.ts';
import { AppError, conflict, invalid, notFound } from '../../../domain/errors.ts';
import type { Db } from '../../db/index.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import { putScan, readVerifiedScan, scanContentType, UPLOAD_CONTENT_TYPES } from '../storage/scans.ts';
import type { FileBody, FileStore } from '../storage/service.ts';
import { type CustodyEventRow, CustodyRepository } from './repository.ts';
import {
  allowedNext,
  applyCustodyEvent,
  type CustodyEvent,
  CustodyEventInputSchema,
  type CustodyEventType,
  checkCustodyEvent,
  custodyStateOf,
  type MaterialCustodyState,
  type ScannedData,
} from './state.ts';

export {
  CUSTODY_EVENT_TYPES,
  type CustodyEvent,
  type CustodyEventInput,
  CustodyEventInputSchema,
  type CustodyEventType,
  type CustodyFile,
  type MaterialCustodyState,
  ORIGINAL_LOCATIONS,
  type OriginalLocation,
  RECEIVED_FORMS,
  type ReceivedForm,
  type ScannedData,
} from './state.ts';

/** The case as the custody module needs it (CasesService.get satisfies this). */
export interface CustodyCase {
  id: string;
  number: string;
  /** The case status (applicants upload only while it is {@link APPLICANT_UPLOAD_STATUSES}). */
  status: string;
  intakeHallCode: string | null;
  competentDepartmentId: string | null;
  materials: { seq: number; name: string; required: boolean }[];
}

/** The parts of other modules custody uses (their services satisfy these). */
export interface CustodyDeps {
  cases: { get(caseRef: string): Promise<CustodyCase> };
  idempotency: Pick<IdempotencyService, 'run' | 'known'>;
  files: FileStore;
}

export interface CustodyOptions {
  /** The current instant (tests pass a fixed clock). */
  clock?: () => Date;
}

/** Who acts, and the client's retry key (a replay returns the first result and changes nothing). */
export interface CustodyContext {
  actor: CaseActor;
  idempotencyKey: string;
}

/** One material's custody: checklist entry, derived state, what may come next, and the events. */
export interface MaterialCustody extends MaterialCustodyState {
  seq: number;
  name: string;
  required: boolean;
  /** Event types that may be recorded next (by the right staff). */
  allowedNext: CustodyEventType[];
  events: CustodyEvent[];
}

export interface CaseCustody {
  caseId: string;
  caseNumber: string;
  materials: MaterialCustody[];
}

/** Result of `record` and `upload`: the new event and the material after it. */
export interface CustodyMutation {
  caseId: string;
  caseNumber: string;
  event: CustodyEvent;
  material: MaterialCustody;
}

/** A downloaded file, verified against its recorded SM3 digest. */
export interface DownloadedFile {
  body: Buffer;
  contentType: string;
  filename: string | null;
  sm3: string;
  bytes: number;
}

/** Content types accepted for scans (shared with the other modules taking scans: ../storage/scans.ts). */
export { UPLOAD_CONTENT_TYPES, type UploadContentType } from '../storage/scans.ts';

/**
 * Case statuses in which the applicant (or their agent) may upload material photos from the citizen app:
 * filed online (submitted), received, or waiting for a supplement (补正) — not once the authority has
 * accepted what it decides on.
 */
export const APPLICANT_UPLOAD_STATUSES: readonly string[] = ['submitted', 'received', 'supplement_requested'];

/**
 * The most files the applicant side (resident or agent) uploads for one material of a case; past it
 * `uploadForApplicant` answers 409 `custody.files_limit` (the hall's own scans are not counted).
 */
export const MAX_APPLICANT_FILES_PER_MATERIAL = 10;

/** How many files of these events the applicant side uploaded (scans carrying `submittedBy`). */
function applicantFiles(rows: CustodyEventRow[]): number {
  return rows.filter((r) => r.type === 'scanned' && (r.data as { submittedBy?: unknown }).submittedBy).length;
}

/** What applicants upload: photos (JPEG, PNG) or a PDF — no untyped bytes. */
export const APPLICANT_UPLOAD_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const;

/** A file key within a case material, as issued by `upload`: `<uuid>.<ext>`. */
export const FILE_KEY_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(pdf|jpg|png|bin)$/;

/** Where a case material's file lives in the FileStore. */
export function storageKeyOf(caseId: string, materialSeq: number, fileKey: string): string {
  return `cases/${caseId}/materials/${materialSeq}/${fileKey}`;
}

/**
 * 材料流转 — the custody module's public face: what happened to each material of a case, as an
 * append-only list of events (actor, time, details), and the scanned files with their SM3 digests
 * (GB/T 32905-2016) in a FileStore (local folder or S3-compatible).
 *
 * Who may act (until the identity issue brings grants): staff of the case's intake hall
 * (`actor.hallCode = case.intakeHallCode`) receive, verify, scan, forward, ship and return — for a case
 * without an intake hall (全程网办), the competent department does; staff of the competent department
 * (`actor.departmentId = case.competentDepartmentId`) record shipment_received, and may return an
 * original they hold. Files are downloaded by staff of either.
 */
export class CustodyService {
  private readonly repo: CustodyRepository;
  private readonly deps: CustodyDeps;
  private readonly clock: () => Date;

  constructor(db: Db, deps: CustodyDeps, options: CustodyOptions = {}) {
    this.repo = new CustodyRepository(db);
    this.deps = deps;
    this.clock = options.clock ?? (() => new Date());
  }

  /** The largest upload accepted, in bytes (FILES_MAX_BYTES of the file store). */
  get maxUploadBytes(): number {
    return this.deps.files.maxBytes;
  }

  /**
   * Records one custody event (not `scanned`: that is {@link upload}) for material `materialSeq` of the
   * case (21-digit number or id). Idempotent by `ctx.idempotencyKey`.
   * @throws AppError(validation) for a malformed event (naming the field), or `custody.scan_by_upload`
   *         for `scanned`; AppError(not_found) `case.not_found` / `custody.material_not_found`;
   *         AppError(forbidden, `custody.not_allowed`) for the wrong staff;
   *         AppError(conflict) `custody.out_of_order` / `custody.tracking_mismatch` when the event may not
   *         come next (the message lists what is allowed) — nothing is recorded.
   */
  async record(
    caseRef: string,
    materialSeq: number,
    input: unknown,
    ctx: CustodyContext,
  ): Promise<CustodyMutation> {
    if ((input as { type?: unknown } | null)?.type === 'scanned') {
      throw invalid(
        'type',
        'A scan is recorded by uploading the file: PUT /api/v1/cases/{ref}/materials/{seq}/file.',
        'custody.scan_by_upload',
      );
    }
    const parsed = CustodyEventInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || 'type';
      throw invalid(
        field,
        `${field}: ${issue.message}. Send one of ${['received', 'verified_against_original', 'forwarded_electronically', 'shipped', 'shipment_received', 'returned'].join(', ')} with its fields.`,
        'custody.event_invalid',
      );
    }
    const event = parsed.data;
    const c = await this.deps.cases.get(caseRef);
    const material = materialOf(c, materialSeq);
    const before = custodyStateOf((await this.repo.events(c.id, materialSeq)).map(toEvent));
    this.authorize(c, before, event.type, ctx.actor);
    const label = labelOf(c, material);
    const data: Record<string, unknown> = { ...event };
    delete data.type;
    const { value } = await this.deps.idempotency.run(
      `POST /api/v1/cases/${c.id}/materials/${materialSeq}/custody|${ctx.actor.kind}:${ctx.actor.id}`,
      ctx.idempotencyKey,
      { materialSeq, event },
      async (tx) => {
        await this.repo.lockMaterial(tx, c.id, materialSeq);
        const rows = await this.repo.events(c.id, materialSeq, tx);
        const state = custodyStateOf(rows.map(toEvent));
        this.authorize(c, state, event.type, ctx.actor); // again: the state may have moved on
        checkCustodyEvent(state, event, label);
        if (event.type === 'forwarded_electronically') {
          const current = state.files.at(-1)!;
          Object.assign(data, {
            departmentId: c.competentDepartmentId,
            fileKey: current.fileKey,
            sm3: current.sm3,
          });
        }
        const row = await this.repo.append(tx, {
          caseId: c.id,
          materialSeq,
          seq: (rows.at(-1)?.seq ?? 0) + 1,
          type: event.type,
          at: this.clock(),
          actor: actorRecord(ctx.actor),
          data,
          fileKey: null,
        });
        return this.mutation(c, material, [...rows, row]);
      },
    );
    return value;
  }

  /**
   * Stores a scan of material `materialSeq` in the FileStore and records `scanned` with
   * `{ fileKey, sm3, bytes, contentType, filename }`. Re-uploads add new files (history is kept; the
   * last one is current). Idempotent: a replay with the same key and the same bytes stores nothing new
   * and returns the first result. The body is streamed (≤ FILES_MAX_BYTES) and its leading bytes must
   * match the content type (PDF, JPEG, PNG; anything for application/octet-stream).
   * @throws AppError(validation) `custody.content_type` / `custody.filename_invalid` /
   *         `custody.file_empty` / `custody.file_type_mismatch`; AppError(payload_too_large,
   *         `file.too_large`); as {@link record} for the case, material, actor and order (a scan needs
   *         something received first). Whenever nothing is recorded, nothing stays stored.
   */
  async upload(
    caseRef: string,
    materialSeq: number,
    body: FileBody,
    meta: { contentType: string; filename?: string | null | undefined },
    ctx: CustodyContext,
  ): Promise<CustodyMutation> {
    const contentType = scanContentType(meta.contentType, 'custody');
    const type = UPLOAD_CONTENT_TYPES[contentType];
    const filename = checkFilename(meta.filename);
    const c = await this.deps.cases.get(caseRef);
    const material = materialOf(c, materialSeq);
    const label = labelOf(c, material);
    const before = custodyStateOf((await this.repo.events(c.id, materialSeq)).map(toEvent));
    this.authorize(c, before, 'scanned', ctx.actor);
    checkCustodyEvent(before, { type: 'scanned' }, label); // before storing any byte

    const fileKey = `${randomUUID()}.${type.ext}`;
    const key = storageKeyOf(c.id, materialSeq, fileKey);
    const stored = await putScan(this.deps.files, key, body, contentType, 'custody');
    let keep = false;
    try {
      const data: ScannedData = { fileKey, sm3: stored.sm3, bytes: stored.bytes, contentType, filename };
      const result = await this.deps.idempotency.run(
        `PUT /api/v1/cases/${c.id}/materials/${materialSeq}/file|${ctx.actor.kind}:${ctx.actor.id}`,
        ctx.idempotencyKey,
        { materialSeq, sm3: stored.sm3, bytes: stored.bytes, contentType, filename },
        async (tx) => {
          await this.repo.lockMaterial(tx, c.id, materialSeq);
          const rows = await this.repo.events(c.id, materialSeq, tx);
          checkCustodyEvent(custodyStateOf(rows.map(toEvent)), { type: 'scanned' }, label);
          const row = await this.repo.append(tx, {
            caseId: c.id,
            materialSeq,
            seq: (rows.at(-1)?.seq ?? 0) + 1,
            type: 'scanned',
            at: this.clock(),
            actor: actorRecord(ctx.actor),
            data: { ...data },
            fileKey,
          });
          return this.mutation(c, material, [...rows, row]);
        },
      );
      keep = !result.replayed; // a replay returns the first upload's file; this copy is not referenced
      return result.value;
    } finally {
      if (!keep) await this.deps.files.delete(key).catch(() => {});
    }
  }

  /**
   * The applicant's own upload of a material (a photo taken in the citizen app, 全程网办 or 补正): the caller
   * (the route) has established that `ctx.actor` is the case's applicant, or an agent acting for them under
   * an active authorization (`onBehalfOf`). Stores the file exactly like a scan (same FILES_MAX_BYTES limit,
   * leading bytes checked, SM3 digest) and records, in ONE transaction, `received` (as electronic, count 1,
   * note `applicant_upload`) and `scanned` (with `submittedBy: applicant | agent`) — so the intake staff see
   * what came in online and can forward it. Idempotent like {@link upload}: a replay with the same key and
   * bytes stores nothing new and answers the first result.
   * @throws AppError(validation) `custody.content_type` (JPEG, PNG or PDF only) and the checks of
   *   {@link upload}; AppError(forbidden, `custody.not_allowed`) for a staff actor; AppError(conflict,
   *   `custody.upload_closed`) once the case is past {@link APPLICANT_UPLOAD_STATUSES} and (conflict,
   *   `custody.files_limit`, field `seq`) past {@link MAX_APPLICANT_FILES_PER_MATERIAL} files of the
   *   material — both checked before any byte is stored, except for a replay of a known key, which answers
   *   the first result whatever the case's status now; as {@link upload}.
   */
  async uploadForApplicant(
    caseRef: string,
    materialSeq: number,
    body: FileBody,
    meta: { contentType: string; filename?: string | null | undefined },
    ctx: CustodyContext,
  ): Promise<CustodyMutation> {
    const contentType = scanContentType(meta.contentType, 'custody', APPLICANT_UPLOAD_TYPES);
    const type = UPLOAD_CONTENT_TYPES[contentType];
    const filename = checkFilename(meta.filename);
    const a = ctx.actor;
    if (a.kind !== 'applicant' && a.kind !== 'agent')
      throw new AppError(
        'forbidden',
        'custody.not_allowed',
        `${a.kind} ${a.id} uploads scans at the desk: PUT …/file as intake staff records them as scanned.`,
      );
    const c = await this.deps.cases.get(caseRef);
    const material = materialOf(c, materialSeq);
    const closed = () =>
      conflict(
        'custody.upload_closed',
        `Case ${c.number} is ${c.status}: photos of materials are uploaded while it is ${APPLICANT_UPLOAD_STATUSES.join(', ')}. Bring anything further to the hall.`,
        'case',
      );
    const full = () =>
      conflict(
        'custody.files_limit',
        `Material ${materialSeq} of case ${c.number} already has ${MAX_APPLICANT_FILES_PER_MATERIAL} uploaded files, the most accepted: bring anything further to the hall.`,
        'seq',
      );
    const open = APPLICANT_UPLOAD_STATUSES.includes(c.status);
    const scope = `PUT /api/v1/cases/${c.id}/materials/${materialSeq}/file|${a.kind}:${a.id}`;
    // a retry of an upload that happened answers what it answered, even once the case moved on (the outbox
    // never saw the first answer); a new upload is refused before any byte is stored
    if (!(await this.deps.idempotency.known(scope, ctx.idempotencyKey))) {
      if (!open) throw closed();
      const before = await this.repo.events(c.id, materialSeq);
      if (applicantFiles(before) >= MAX_APPLICANT_FILES_PER_MATERIAL) throw full();
    }
    const fileKey = `${randomUUID()}.${type.ext}`;
    const key = storageKeyOf(c.id, materialSeq, fileKey);
    const stored = await putScan(this.deps.files, key, body, contentType, 'custody');
    let keep = false;
    try {
      const data: ScannedData & { submittedBy: string } = {
        fileKey,
        sm3: stored.sm3,
        bytes: stored.bytes,
        contentType,
        filename,
        submittedBy: a.kind,
      };
      const result = await this.deps.idempotency.run(
        scope,
        ctx.idempotencyKey,
        { materialSeq, sm3: stored.sm3, bytes: stored.bytes, contentType, filename },
        async (tx) => {
          if (!open) throw closed(); // not a replay (the key was new after all)
          await this.repo.lockMaterial(tx, c.id, materialSeq);
          const rows = await this.repo.events(c.id, materialSeq, tx);
          if (applicantFiles(rows) >= MAX_APPLICANT_FILES_PER_MATERIAL) throw full();
          const at = this.clock();
          const received = await this.repo.append(tx, {
            caseId: c.id,
            materialSeq,
            seq: (rows.at(-1)?.seq ?? 0) + 1,
            type: 'received',
            at,
            actor: actorRecord(a),
            data: { as: 'electronic', count: 1, note: 'applicant_upload' },
            fileKey: null,
          });
          const scanned = await this.repo.append(tx, {
            caseId: c.id,
            materialSeq,
            seq: received.seq + 1,
            type: 'scanned',
            at,
            actor: actorRecord(a),
            data: { ...data },
            fileKey,
          });
          return this.mutation(c, material, [...rows, received, scanned]);
        },
      );
      keep = !result.replayed;
      return result.value;
    } finally {
      if (!keep) await this.deps.files.delete(key).catch(() => {});
    }
  }

  /** Every material of the case (the checklist), with its derived custody and its events. */
  async custodyOf(caseRef: string): Promise<CaseCustody> {
    const c = await this.deps.cases.get(caseRef);
    const rows = await this.repo.eventsOfCase(c.id);
    return {
      caseId: c.id,
      caseNumber: c.number,
      materials: [...c.materials]
        .sort((a, b) => a.seq - b.seq)
        .map((m) => materialView(m, rows.filter((r) => r.materialSeq === m.seq).map(toEvent))),
    };
  }

  /**
   * A scanned file, read whole and verified against the SM3 digest and size recorded when it was
   * uploaded, before any byte is handed out (tamper evidence).
   * @throws AppError(validation, `file.key_unsafe`) for a key not of the form `<uuid>.<ext>`;
   *         AppError(not_found) `case.not_found` / `custody.material_not_found` / `custody.file_not_found`;
   *         AppError(forbidden, `custody.not_allowed`) unless staff of the intake hall or competent department;
   *         AppError(internal) `custody.file_tampered` when the bytes no longer match, `custody.file_missing`
   *         when the recorded file is gone from the store (both logged as errors).
   */
  async download(
    caseRef: string,
    materialSeq: number,
    fileKey: string,
    ctx: { actor: CaseActor },
  ): Promise<DownloadedFile> {
    if (!FILE_KEY_PATTERN.test(fileKey)) {
      throw invalid(
        'key',
        'A file key looks like <uuid>.pdf (as returned by the upload).',
        'file.key_unsafe',
      );
    }
    const c = await this.deps.cases.get(caseRef);
    const material = materialOf(c, materialSeq);
    const a = ctx.actor;
    const atIntake = a.kind === 'staff' && !!a.hallCode && a.hallCode === c.intakeHallCode;
    const competent = a.kind === 'staff' && !!a.departmentId && a.departmentId === c.competentDepartmentId;
    if (!atIntake && !competent) {
      throw new AppError(
        'forbidden',
        'custody.not_allowed',
        `${a.kind} ${a.id} may not read the files of case ${c.number}: staff of its intake hall or competent department do.`,
      );
    }
    const row = await this.repo.findScan(c.id, materialSeq, fileKey);
    if (!row) {
      throw notFound(
        'custody.file_not_found',
        `No file ${fileKey} for ${labelOf(c, material)} of case ${c.number}. See GET /api/v1/cases/${c.number}/materials for its files.`,
        'key',
      );
    }
    const recorded = row.data as unknown as ScannedData;
    const where = `file ${fileKey} of ${labelOf(c, material)} of case ${c.number}`;
    const tampered = (found: string) =>
      new AppError(
        'internal',
        'custody.file_tampered',
        `The stored ${where} does not match what was recorded when it was scanned (${recorded.bytes} bytes, SM3 ${recorded.sm3}; found ${found}): it was changed or damaged after upload and is not served. Operators: restore it from backup.`,
      );
    const body = await readVerifiedScan(this.deps.files, storageKeyOf(c.id, materialSeq, fileKey), recorded, {
      tampered,
      missing: (e) =>
        new AppError(
          'internal',
          'custody.file_missing',
          `The stored ${where} is missing from the file store (${this.deps.files.describe}). Operators: restore it from backup.`,
          { cause: e },
        ),
    });
    const sm3 = recorded.sm3;
    return { body, contentType: recorded.contentType, filename: recorded.filename, sm3, bytes: body.length };
  }

  // ---------------------------------------------------------------------------------------------

  private authorize(c: CustodyCase, s: MaterialCustodyState, type: CustodyEventType, a: CaseActor): void {
    const atIntake = a.kind === 'staff' && !!a.hallCode && a.hallCode === c.intakeHallCode;
    const competent = a.kind === 'staff' && !!a.departmentId && a.departmentId === c.competentDepartmentId;
    const intakeRole = atIntake || (competent && !c.intakeHallCode);
    const ok =
      type === 'shipment_received'
        ? competent
        : type === 'returned'
          ? intakeRole || (competent && s.original === 'competent_department')
          : intakeRole;
    if (!ok) {
      const who =
        type === 'shipment_received'
          ? 'staff of the competent department do this'
          : type === 'returned'
            ? 'staff of the intake hall (or of the competent department holding the original) do this'
            : c.intakeHallCode
              ? `staff of the intake hall ${c.intakeHallCode} do this`
              : 'staff of the competent department do this (the case has no intake hall)';
      throw new AppError(
        'forbidden',
        'custody.not_allowed',
        `${a.kind} ${a.id} may not record ${type} for case ${c.number}: ${who}.`,
      );
    }
  }

  private mutation(
    c: CustodyCase,
    material: CustodyCase['materials'][number],
    rows: CustodyEventRow[],
  ): CustodyMutation {
    const events = rows.map(toEvent);
    return {
      caseId: c.id,
      caseNumber: c.number,
      event: events.at(-1)!,
      material: materialView(material, events),
    };
  }
}

function materialOf(c: CustodyCase, seq: number): CustodyCase['materials'][number] {
  const m = c.materials.find((x) => x.seq === seq);
  if (!m) {
    throw notFound(
      'custody.material_not_found',
      `Case ${c.number} has no material ${seq}; its materials are ${c.materials.map((x) => `${x.seq} ${x.name}`).join(', ') || 'none'}.`,
      'seq',
    );
  }
  return m;
}

function labelOf(_c: CustodyCase, m: { seq: number; name: string }): string {
  return `material ${m.seq} (${m.name})`;
}

function materialView(
  m: { seq: number; name: string; required: boolean },
  events: CustodyEvent[],
): MaterialCustody {
  const state = events.reduce(applyCustodyEvent, custodyStateOf([]));
  return {
    seq: m.seq,
    name: m.name,
    required: m.required,
    ...state,
    allowedNext: allowedNext(state),
    events,
  };
}

function toEvent(r: CustodyEventRow): CustodyEvent {
  return {
    seq: r.seq,
    type: r.type as CustodyEventType,
    at: r.at.toISOString(),
    actor: r.actor,
    data: r.data,
  };
}

function actorRecord(a: CaseActor): Record<string, unknown> {
  return {
    kind: a.kind,
    id: a.id,
    ...(a.onBehalfOf ? { onBehalfOf: a.onBehalfOf } : {}),
    ...(a.departmentId ? { departmentId: a.departmentId } : {}),
    ...(a.hallCode ? { hallCode: a.hallCode } : {}),
  };
}

function checkFilename(name: string | null | undefined): string | null {
  if (name === undefined || name === null || name === '') return null;
  if (name.length > 200 || /[\p{Cc}/\\]/u.test(name) || name.trim() !== name || /^\.+$/.test(name)) {
    throw invalid(
      'filename',
      'A filename is at most 200 characters, without "/", "\\", control characters or surrounding spaces (e.g. 身份证正面.jpg).',
      'custody.filename_invalid',
    );
  }
  return name;
}

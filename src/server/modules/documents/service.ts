import { todayInShanghai } from '../../../domain/calendar.ts';
import { AppError, notFound } from '../../../domain/errors.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { CasesService } from '../cases/service.ts';
import type { OutboxRow } from '../outbox/service.ts';
import { type FileStore, readAll, sm3Hex } from '../storage/service.ts';
import { type DocumentFont, loadDocumentFont } from './font.ts';
import {
  DOCUMENT_KIND_INFO,
  DOCUMENT_TOPICS,
  type DocumentKind,
  documentKindOf,
  formatDocumentNumber,
} from './kinds.ts';
import { type DocumentContent, renderDocument } from './render.ts';
import { type CaseDocumentRow, DocumentsRepository } from './repository.ts';

export { DOCUMENT_KIND_INFO, DOCUMENT_KINDS, type DocumentKind } from './kinds.ts';
export type { DocumentContent } from './render.ts';

/** A document as the API lists it. */
export interface DocumentView {
  id: string;
  kind: DocumentKind;
  /** 中文 title, e.g. 受理通知书. */
  title: string;
  /** 文号. */
  number: string;
  /** `case_events.seq` of the timeline event it belongs to. */
  eventSeq: number;
  /** SM3 of the PDF, 64 hex digits. */
  sm3: string;
  /** Size of the PDF in bytes. */
  bytes: number;
  /** The document's date: the event's instant (ISO 8601). */
  issuedAt: string;
  /** When the row was created (ISO 8601). */
  createdAt: string;
  /** Path of the PDF: `/api/v1/cases/<case number>/documents/<id>`. */
  downloadUrl: string;
}

/** A downloaded document. */
export interface DocumentFile {
  view: DocumentView;
  body: Buffer;
  /** e.g. `受理通知书-威宁县民政局受字〔2026〕第000001号.pdf`. */
  filename: string;
}

/** What the documents module needs of other modules (their services satisfy these). */
export interface DocumentsDeps {
  cases: Pick<CasesService, 'get' | 'timeline'>;
  halls: { getHall(code: string): Promise<{ code: string; name: string }> };
  departments: { getDepartment(id: string): Promise<{ id: string; name: string }> };
  files: FileStore;
}

export interface DocumentsOptions {
  /**
   * Base of the public case tracking page the QR code links to (`<base>/track/<case number>`):
   * PUBLIC_BASE_URL, else the server's own URL.
   */
  publicBaseUrl: string;
  /** The CJK font (default {@link loadDocumentFont}, read on first use). */
  font?: () => DocumentFont;
}

/**
 * 文书: the notices of a case as PDFs — 收件凭证, 补正材料一次性告知书, 受理通知书, 不予受理通知书, 准予 / 不予
 * 行政许可决定书, 送达回证 (行政许可法 arts. 32, 37, 38, 42, 44). One document per (timeline event, kind),
 * numbered per issuing authority, kind and year without gaps, stored in the file store with its SM3 digest.
 *
 * When: never inside a case transition (that transaction is the engine's hot path). The outbox
 * {@link handler} only queues the case (one INSERT in the dispatch transaction); the jobs loop
 * ({@link runPending}) and any request for a case's documents ({@link list}) issue what is missing, outside
 * every transaction except the short one that allocates the number. Idempotent and safe to run on several
 * nodes at once: a unique (case, event, kind) index, and rendering is deterministic.
 */
export class DocumentsService {
  private readonly repo: DocumentsRepository;
  private readonly deps: DocumentsDeps;
  private readonly publicBaseUrl: string;
  private readonly fontSource: () => DocumentFont;
  private font: DocumentFont | undefined;

  constructor(db: Db, deps: DocumentsDeps, options: DocumentsOptions) {
    this.repo = new DocumentsRepository(db);
    this.deps = deps;
    this.publicBaseUrl = options.publicBaseUrl.replace(/\/+$/, '');
    this.fontSource = options.font ?? (() => loadDocumentFont());
  }

  /**
   * Outbox handler (subscribe with `outbox.subscribe(documents.handler)`): for a `case.<type>` event that
   * may need a document (receive, request_supplement, accept, not_accept, decide, deliver) it queues the
   * case in `tx` — no rendering in the dispatch transaction.
   */
  readonly handler = async (tx: Tx, event: OutboxRow): Promise<void> => {
    if (event.aggregateType === 'case' && DOCUMENT_TOPICS.has(event.topic))
      await this.repo.enqueue(tx, event.aggregateId);
  };

  /**
   * A case's documents, oldest event first, issuing on the way any that its timeline calls for and that
   * the jobs loop has not issued yet (so a document asked for right after its event is there).
   * @throws AppError(not_found, `case.not_found`); `document.font_missing` (503) when no font is found;
   *   `file.store_unavailable` (503).
   */
  async list(caseRef: string): Promise<DocumentView[]> {
    const { caseNumber, rows } = await this.issueAll(caseRef);
    return rows.map((r) => this.present(caseNumber, r));
  }

  /**
   * One document's PDF, read from the file store and checked against its recorded SM3 digest.
   * @throws AppError(not_found, `document.not_found`) for an id that is not one of this case's documents;
   *   AppError(internal, `document.tampered`) when the stored bytes no longer match the digest.
   */
  async download(caseRef: string, id: string): Promise<DocumentFile> {
    const c = await this.deps.cases.get(caseRef);
    let row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.find(c.id, id) : undefined;
    if (!row) throw notFound('document.not_found', `Case ${c.number} has no document ${id}.`, 'id');
    if (!row.storageKey) row = await this.render(row);
    const body = await readAll(
      await this.deps.files.get(row.storageKey!),
      10 * 1024 * 1024,
      () => new AppError('internal', 'document.too_large', 'A stored document is larger than 10 MiB.'),
    );
    if (sm3Hex(body) !== row.sm3)
      throw new AppError(
        'internal',
        'document.tampered',
        `The stored PDF of ${row.number} does not match its recorded SM3 digest; it was changed after it was issued. Tell the administrator.`,
      );
    const view = this.present(c.number, row);
    return { view, body, filename: `${view.title}-${row.number}.pdf` };
  }

  /**
   * Issues the missing documents of the queued cases (jobs loop): up to `limit` cases leased for 120 s;
   * a failing case is retried after 60 s (its error kept in `document_jobs.last_error`). @returns documents issued or completed.
   */
  async runPending(limit = 20): Promise<number> {
    let issued = 0;
    for (const job of await this.repo.claimJobs(limit, 120)) {
      try {
        issued += (await this.issueAll(job.caseId)).issued;
        await this.repo.finishJob(job.caseId, job.lease);
      } catch (e) {
        await this.repo.failJob(job.caseId, job.lease, (e as Error).message ?? String(e), 60);
      }
    }
    return issued;
  }

  /** Cases queued for documents (tests, health). */
  pendingJobs(): Promise<number> {
    return this.repo.pendingJobs();
  }

  /** Renders stored content again (a verifier: the bytes equal the stored PDF's, see its SM3). */
  renderContent(content: DocumentContent): Promise<Buffer> {
    return renderDocument(content, this.loadFont());
  }

  /** The stored content of a document (what its PDF prints). @throws `document.not_found`. */
  async contentOf(caseRef: string, id: string): Promise<DocumentContent> {
    const c = await this.deps.cases.get(caseRef);
    const row = await this.repo.find(c.id, id);
    if (!row) throw notFound('document.not_found', `Case ${c.number} has no document ${id}.`, 'id');
    return row.content as unknown as DocumentContent;
  }

  // ---------------------------------------------------------------------------------------------

  private loadFont(): DocumentFont {
    this.font ??= this.fontSource();
    return this.font;
  }

  /** Allocates and renders every document the case's timeline calls for and that is missing. */
  private async issueAll(
    caseRef: string,
  ): Promise<{ caseNumber: string; rows: CaseDocumentRow[]; issued: number }> {
    const c = await this.deps.cases.get(caseRef);
    let rows = await this.repo.listByCase(c.id);
    const have = new Set(rows.map((r) => `${r.eventSeq}:${r.kind}`));
    const timeline = await this.deps.cases.timeline(c.id);
    let allocated = false;
    for (const e of timeline) {
      const kind = documentKindOf(e);
      if (!kind || have.has(`${e.seq}:${kind}`)) continue;
      await this.allocate(c, timeline, e, kind);
      allocated = true;
    }
    if (allocated) rows = await this.repo.listByCase(c.id);
    // Rendered here: the new ones, and any whose rendering was cut off (allocated, never stored).
    let issued = 0;
    const out: CaseDocumentRow[] = [];
    for (const r of rows) {
      if (r.storageKey) out.push(r);
      else {
        out.push(await this.render(r));
        issued++;
      }
    }
    return { caseNumber: c.number, rows: out, issued };
  }

  private async allocate(
    c: CaseOf,
    timeline: TimelineOf,
    e: TimelineOf[number],
    kind: DocumentKind,
  ): Promise<CaseDocumentRow> {
    const actor = e.actor as { departmentId?: string; hallCode?: string };
    const data = e.data as Record<string, unknown>;
    const hallCode =
      kind === 'receipt'
        ? ((data.intakeHallCode as string | undefined) ?? actor.hallCode ?? c.intakeHallCode)
        : null;
    const departmentId = actor.departmentId ?? c.competentDepartmentId;
    const [hall, department, intakeHall] = await Promise.all([
      hallCode ? this.deps.halls.getHall(hallCode) : null,
      departmentId ? this.deps.departments.getDepartment(departmentId) : null,
      c.intakeHallCode ? this.deps.halls.getHall(c.intakeHallCode) : null,
    ]);
    const issuer = DOCUMENT_KIND_INFO[kind].issuer === 'intake_hall' && hall ? hall : department;
    if (!issuer)
      throw new AppError(
        'conflict',
        'document.no_issuer',
        `Case ${c.number} has no competent department yet; the ${DOCUMENT_KIND_INFO[kind].title} cannot be issued.`,
      );
    const issuerKey = issuer === hall ? `hall:${hall.code}` : `department:${(issuer as { id: string }).id}`;
    const year = Number(todayInShanghai(new Date(e.at)).slice(0, 4));
    const receive = timeline.find((t) => t.type === 'receive');
    const applicant = c.applicant as { kind?: string; name?: string; idNumber?: string; creditCode?: string };
    const legal = applicant.kind === 'legal_person';
    const promised = c.limits.promised;
    const base: Omit<DocumentContent, 'number'> = {
      kind,
      issuer: issuer.name,
      caseNumber: c.number,
      item: { code: c.itemCode, name: c.itemName },
      applicant: {
        name: applicant.name ?? '',
        idLabel: legal ? '统一社会信用代码' : '公民身份号码',
        id: (legal ? applicant.creditCode : applicant.idNumber) ?? null,
      },
      issuedAt: new Date(e.at).toISOString(),
      receivedOn: (receive?.data as { receivedOn?: string } | undefined)?.receivedOn ?? null,
      intakeHall: intakeHall?.name ?? null,
      competentDepartment: department?.name ?? null,
      reason: e.reason ?? null,
      trackingUrl: `${this.publicBaseUrl}/track/${c.number}`,
      ...(kind === 'supplement_notice'
        ? { gaps: (data.gaps as { material: string; reason: string }[] | undefined) ?? [] }
        : {}),
      ...(kind === 'acceptance_notice'
        ? {
            promisedWorkingDays: promised && promised.unit === 'working_days' ? promised.value : null,
          }
        : {}),
      ...(kind === 'delivery_receipt'
        ? {
            delivery: {
              method: String(data.method ?? ''),
              reference: typeof data.reference === 'string' ? data.reference : null,
            },
          }
        : {}),
    };
    return this.repo.allocate(
      { caseId: c.id, eventSeq: e.seq, kind, issuerKey, year, content: {}, issuedAt: new Date(e.at) },
      (sequence) => {
        const number = formatDocumentNumber(issuer.name, kind, year, sequence);
        return { number, content: { ...base, number } as unknown as Record<string, unknown> };
      },
    );
  }

  /** Renders a row's content, stores the PDF (`documents/<case id>/<document id>.pdf`) and records it. */
  private async render(row: CaseDocumentRow): Promise<CaseDocumentRow> {
    const bytes = await renderDocument(row.content as unknown as DocumentContent, this.loadFont());
    const stored = await this.deps.files.put(`documents/${row.caseId}/${row.id}.pdf`, bytes, {
      contentType: 'application/pdf',
    });
    return this.repo.markRendered(row.id, stored);
  }

  private present(caseNumber: string, r: CaseDocumentRow): DocumentView {
    const kind = r.kind as DocumentKind;
    return {
      id: r.id,
      kind,
      title: DOCUMENT_KIND_INFO[kind].title,
      number: r.number,
      eventSeq: r.eventSeq,
      sm3: r.sm3 ?? '',
      bytes: r.byteSize ?? 0,
      issuedAt: r.issuedAt.toISOString(),
      createdAt: r.createdAt.toISOString(),
      downloadUrl: `/api/v1/cases/${caseNumber}/documents/${r.id}`,
    };
  }
}

type CaseOf = Awaited<ReturnType<CasesService['get']>>;
type TimelineOf = Awaited<ReturnType<CasesService['timeline']>>;

import type { z } from 'zod';
import { todayInShanghai } from '../../../domain/calendar.ts';
import { AppError, conflict, invalid, invalidMany, isAppError } from '../../../domain/errors.ts';
import {
  FeedbackCloseInputSchema,
  FeedbackCommentInputSchema,
  type FeedbackOwnerKind,
  FeedbackReportInputSchema,
  FeedbackTriageInputSchema,
  type FeedbackView,
  feedbackNumber,
  type Named,
} from '../../../domain/feedback.ts';
import { anyGrantAllows, type Grant, grantInForce } from '../../../domain/roles.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import { requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';
import type { OutboxService } from '../outbox/service.ts';
import {
  type FeedbackPlace,
  feedbackHidden,
  mayRead,
  mayTriage,
  requireReporter,
  requireTriage,
  triagePlaces,
} from './policy.ts';
import { type FeedbackCommentRow, FeedbackRepository, type FeedbackRow } from './repository.ts';

/** A name to show beside an id (a staff member's display name, a department's name); null when unknown. */
export type { FeedbackView, Named };

export interface FeedbackComment {
  seq: number;
  author: Named;
  text: string;
  createdAt: string;
}

export type FeedbackDetail = FeedbackView & { comments: FeedbackComment[] };

/** The other modules the feedback channel reads (through their services), all before a transaction. */
export interface FeedbackDeps {
  audit: AuditService;
  outbox: OutboxService;
  idempotency: IdempotencyService;
  /** The cases module: 404 `case.not_found` for a case the caller may not see (the 404 rule). */
  cases: {
    requireAccess(p: Principal, caseRef: string, action: null): Promise<unknown>;
    locate(caseRef: string): Promise<{ id: string; number: string }>;
  };
  halls: { getHall(code: string): Promise<{ code: string; divisionCode: string }> };
  departments: { getDepartment(id: string): Promise<{ id: string; name: string; divisionCode: string }> };
  staff: {
    staffMembers(
      ids: readonly string[],
    ): Promise<
      { id: string; name: string; departmentId: string | null; hallCode: string | null; grants: Grant[] }[]
    >;
  };
  clock?: () => Date;
}

const CREATE_SCOPE = 'POST /api/v1/feedback';

/**
 * The staff feedback channel (一线反馈): window staff report what gets in their way — system, process,
 * permission, cross-department coordination — from any workbench screen; administrators with
 * `feedback.triage` over the reporter's place triage (owner, priority), work and close each report with
 * a resolution; reporter, triager and owner comment. Every change is audited and written in ONE
 * transaction with its outbox row (`feedback.reported`, `feedback.triaged`, `feedback.closed`: ids,
 * category, hall, division, `at` instant and `on` Asia/Shanghai day — no text, no names). The KPI module
 * counts `feedback.reported` (docs/metrics.md `staff_feedback_reports`). Access: ./policy.ts.
 */
export class FeedbackService {
  readonly db: Db;
  private readonly repo: FeedbackRepository;
  private readonly deps: FeedbackDeps;
  private readonly clock: () => Date;

  constructor(db: Db, deps: FeedbackDeps) {
    this.db = db;
    this.deps = deps;
    this.repo = new FeedbackRepository(db);
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * Files a report (`POST /api/v1/feedback`). The place is the reporter's: the hall / department their
   * account is bound to (else the first grant with `feedback.report` in force), and its division.
   * Idempotent by `idempotencyKey` (a replay answers the first report; another body with the same key is
   * 409 `idempotency.key_reused`). A replay answers before the case check (the case may have moved since).
   * @throws 400 `validation.invalid_field` naming the field; 400 `feedback.case_unknown` (field
   *         `caseNumber`) for a case the reporter cannot see — whether or not it exists; 403
   *         `feedback.reporter_only`; 400 `idempotency.key_malformed`.
   */
  async report(principal: Principal | null, input: unknown, idempotencyKey: string): Promise<FeedbackView> {
    const now = this.clock();
    const { p, grants } = requireReporter(principal, now);
    const body = parse(FeedbackReportInputSchema, input);
    const scope = `${CREATE_SCOPE}|staff:${p.accountId}`;
    const replay = await this.deps.idempotency.known(scope, idempotencyKey);
    let caseId: string | null = null;
    if (body.caseNumber && !replay) caseId = await this.visibleCase(p, body.caseNumber);
    const place = await this.placeOf(p, grants);
    const { value } = await this.deps.idempotency.run(scope, idempotencyKey, body, async (tx) => {
      const row = await this.repo.insert(tx, {
        category: body.category,
        summary: body.summary,
        details: body.details,
        screen: body.screen,
        caseNumber: body.caseNumber ?? null,
        caseId,
        reporterAccountId: p.accountId,
        ...place,
      });
      await this.audited(tx, p, 'feedback.report', row, { status: row.status });
      await this.event(tx, 'feedback.reported', row, now);
      return row.id;
    });
    return this.present(p, await this.requireRow(value));
  }

  /** The caller's own reports, newest first (`before`: running numbers below it). @throws 403 reporter_only. */
  async mine(
    principal: Principal | null,
    f: { status?: string; category?: string; before?: number; limit?: number } = {},
  ): Promise<FeedbackView[]> {
    const { p } = requireReporter(principal, this.clock());
    const rows = await this.repo.byReporter(p.accountId, { ...f, limit: f.limit ?? 50 });
    return this.presentMany(p, rows);
  }

  /**
   * The triage queue: reports whose place lies in the caller's `feedback.triage` scopes, newest first,
   * filtered by status / category. @throws 403 `feedback.triager_only`.
   */
  async queue(
    principal: Principal | null,
    f: { status?: string; category?: string; before?: number; limit?: number } = {},
  ): Promise<FeedbackView[]> {
    const places = triagePlaces(principal, this.clock());
    const rows = await this.repo.inPlaces(places, { ...f, limit: f.limit ?? 50 });
    return this.presentMany(principal!, rows);
  }

  /** One report with its comments. @throws 404 `feedback.not_found` (also for reports the caller may not read). */
  async get(principal: Principal | null, id: string): Promise<FeedbackDetail> {
    const p = requireReporterOrTriager(principal);
    const row = await this.readable(p, id);
    return this.detail(p, row);
  }

  /**
   * Triage: owner (a staff account or a department, which must exist), priority, and `triaged` or
   * `in_progress`; an optional note becomes a comment. Re-triage of an open report is allowed.
   * The owner must lie within the caller's own `feedback.triage` scope (a staff member's hall, department
   * or grants; a department's own place), so a report is never handed to someone the triager does not
   * administer. Idempotent by `idempotencyKey` (a replay answers the report as it is now; another body with
   * the same key is 409 `idempotency.key_reused`).
   * @throws 404 `feedback.not_found`; 403 `feedback.triage_forbidden`; 400 naming `owner.id`
   *         (`feedback.owner_unknown`: unknown, or outside your scope); 409 `feedback.closed`.
   */
  async triage(
    principal: Principal | null,
    id: string,
    input: unknown,
    idempotencyKey: string,
  ): Promise<FeedbackDetail> {
    const p = requireReporterOrTriager(principal);
    const now = this.clock();
    const row = await this.readable(p, id);
    requireTriage(p, row, now);
    const body = parse(FeedbackTriageInputSchema, input);
    const scope = `POST /api/v1/feedback/${id}/triage|staff:${p.accountId}`;
    if (!(await this.deps.idempotency.known(scope, idempotencyKey)))
      await this.requireOwner(p, body.owner, now);
    const { value } = await this.deps.idempotency.run(scope, idempotencyKey, body, async (tx) => {
      const locked = await this.requireOpen(tx, id);
      if (body.note) await this.repo.addComment(tx, id, p.accountId, body.note);
      const r = await this.repo.update(tx, id, {
        status: body.status,
        priority: body.priority,
        ownerKind: body.owner.kind,
        ownerId: body.owner.id,
        triagedByAccountId: p.accountId,
        triagedAt: now,
      });
      await this.audited(tx, p, 'feedback.triage', r, {
        before: { status: locked.status, priority: locked.priority, owner: ownerOf(locked) },
        after: { status: r.status, priority: r.priority, owner: ownerOf(r) },
      });
      await this.event(tx, 'feedback.triaged', r, now, { priority: body.priority, status: body.status });
      return r.id;
    });
    return this.detail(p, await this.requireRow(value));
  }

  /**
   * A comment by the reporter, the owner or a triager. Idempotent by `idempotencyKey`: a retried comment
   * is recorded once (the replay answers the report as it is now).
   * @throws 404; 409 `feedback.closed`; 409 `idempotency.key_reused`; 400 `idempotency.key_malformed`.
   */
  async comment(
    principal: Principal | null,
    id: string,
    input: unknown,
    idempotencyKey: string,
  ): Promise<FeedbackDetail> {
    const p = requireReporterOrTriager(principal);
    await this.readable(p, id);
    const body = parse(FeedbackCommentInputSchema, input);
    const scope = `POST /api/v1/feedback/${id}/comments|staff:${p.accountId}`;
    await this.deps.idempotency.run(scope, idempotencyKey, body, async (tx) => {
      const locked = await this.requireOpen(tx, id);
      const c = await this.repo.addComment(tx, id, p.accountId, body.text);
      await this.audited(tx, p, 'feedback.comment', locked, { seq: c.seq, length: body.text.length });
      return locked.id;
    });
    return this.detail(p, await this.requireRow(id));
  }

  /**
   * Closes a report with its resolution (from any open status). Idempotent by `idempotencyKey` (a replay
   * answers the closed report). @throws 404; 403 `feedback.triage_forbidden`; 409 `feedback.closed`;
   * 409 `idempotency.key_reused`.
   */
  async close(
    principal: Principal | null,
    id: string,
    input: unknown,
    idempotencyKey: string,
  ): Promise<FeedbackDetail> {
    const p = requireReporterOrTriager(principal);
    const now = this.clock();
    const row = await this.readable(p, id);
    requireTriage(p, row, now);
    const body = parse(FeedbackCloseInputSchema, input);
    const scope = `POST /api/v1/feedback/${id}/close|staff:${p.accountId}`;
    const { value } = await this.deps.idempotency.run(scope, idempotencyKey, body, async (tx) => {
      const locked = await this.requireOpen(tx, id);
      const r = await this.repo.update(tx, id, {
        status: 'closed',
        resolution: body.resolution,
        closedByAccountId: p.accountId,
        closedAt: now,
      });
      await this.audited(tx, p, 'feedback.close', r, {
        before: { status: locked.status },
        after: { status: 'closed' },
      });
      await this.event(tx, 'feedback.closed', r, now);
      return r.id;
    });
    return this.detail(p, await this.requireRow(value));
  }

  // ---- internals

  /** The case's id when the reporter can see it; else 400 `feedback.case_unknown` (nothing revealed). */
  private async visibleCase(p: Principal, caseNumber: string): Promise<string> {
    try {
      await this.deps.cases.requireAccess(p, caseNumber, null);
      return (await this.deps.cases.locate(caseNumber)).id;
    } catch (e) {
      if (isAppError(e) && e.kind === 'not_found')
        throw invalid(
          'caseNumber',
          'This case number is not one of the cases you can see: check it, or leave caseNumber out.',
          'feedback.case_unknown',
        );
      throw e;
    }
  }

  /**
   * The reporter's place: the hall / department of their account, else of their first reporting grant;
   * the division is the hall's or department's (read from those modules), else the grant's division.
   */
  private async placeOf(p: Principal, grants: Grant[]): Promise<FeedbackPlace> {
    const first = grants[0]!.scope;
    const hallCode = p.hallCode ?? (first.kind === 'hall' ? first.code : null);
    const departmentId = p.departmentId ?? (first.kind === 'department' ? first.id : null);
    let divisionCode = first.kind === 'division' ? first.code : first.divisionCode;
    try {
      if (hallCode) divisionCode = (await this.deps.halls.getHall(hallCode)).divisionCode;
      else if (departmentId)
        divisionCode = (await this.deps.departments.getDepartment(departmentId)).divisionCode;
    } catch (e) {
      // a development actor's made-up place: keep the grant's division
      if (!isAppError(e)) throw e;
    }
    return { hallCode, departmentId, divisionCode };
  }

  /**
   * The owner exists AND lies within the triager's `feedback.triage` scope: a staff member by their hall,
   * department or any grant in force of theirs; a department by itself and its division. Else 400
   * `feedback.owner_unknown` naming `owner.id` (the same answer whether it exists or lies elsewhere).
   */
  private async requireOwner(
    p: Principal,
    owner: { kind: FeedbackOwnerKind; id: string },
    now: Date,
  ): Promise<void> {
    const unknown = () =>
      invalid(
        'owner.id',
        owner.kind === 'staff'
          ? 'No staff account with this id among the staff you administer: pick the owner from the staff list of your place.'
          : 'No department with this id among those you administer: pick the owning department from the list of your place.',
        'feedback.owner_unknown',
      );
    const target: { divisionCodes: string[]; hallCodes: string[]; departmentIds: string[] } = {
      divisionCodes: [],
      hallCodes: [],
      departmentIds: [],
    };
    if (owner.kind === 'staff') {
      const [found] = await this.deps.staff.staffMembers([owner.id]).catch(() => []);
      if (!found) throw unknown();
      if (found.hallCode) target.hallCodes.push(found.hallCode);
      if (found.departmentId) target.departmentIds.push(found.departmentId);
      for (const g of found.grants) {
        if (!grantInForce(g, now)) continue;
        if (g.scope.kind === 'division') target.divisionCodes.push(g.scope.code);
        else {
          target.divisionCodes.push(g.scope.divisionCode);
          if (g.scope.kind === 'hall') target.hallCodes.push(g.scope.code);
          else target.departmentIds.push(g.scope.id);
        }
      }
    } else {
      try {
        const d = await this.deps.departments.getDepartment(owner.id);
        target.departmentIds.push(d.id);
        target.divisionCodes.push(d.divisionCode);
      } catch (e) {
        if (isAppError(e)) throw unknown();
        throw e;
      }
    }
    if (!anyGrantAllows(p.grants, 'feedback.triage', target, now)) throw unknown();
  }

  private async readable(p: Principal, id: string): Promise<FeedbackRow> {
    if (!UUID.test(id)) feedbackHidden(id);
    const row = await this.repo.findById(id);
    if (!row || !mayRead(p, row, this.clock())) feedbackHidden(id);
    return row;
  }

  private async requireRow(id: string): Promise<FeedbackRow> {
    const row = await this.repo.findById(id);
    if (!row) feedbackHidden(id);
    return row;
  }

  private async requireOpen(tx: Tx, id: string): Promise<FeedbackRow> {
    const row = await this.repo.lock(tx, id);
    if (!row) feedbackHidden(id);
    if (row.status === 'closed')
      throw conflict(
        'feedback.closed',
        `Report ${feedbackNumber(row.no)} is closed; file a new report if the problem is back.`,
      );
    return row;
  }

  private async audited(
    tx: Tx,
    p: Principal,
    action: string,
    row: FeedbackRow,
    change: Record<string, unknown>,
  ): Promise<void> {
    await this.deps.audit.append(tx, {
      actor: { kind: 'staff', id: p.accountId },
      action,
      target: { type: 'feedback', id: row.id },
      details: {
        number: feedbackNumber(row.no),
        category: row.category,
        divisionCode: row.divisionCode,
        hallCode: row.hallCode,
        ...change,
      },
    });
  }

  /** The outbox row of a change, in the writer's transaction `tx` (no text, no names). */
  private async event(
    tx: Tx,
    topic: 'feedback.reported' | 'feedback.triaged' | 'feedback.closed',
    row: FeedbackRow,
    now: Date,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.deps.outbox.append(tx, [
      {
        topic,
        aggregateType: 'feedback',
        aggregateId: row.id,
        payload: {
          feedbackId: row.id,
          category: row.category,
          hallCode: row.hallCode,
          departmentId: row.departmentId,
          divisionCode: row.divisionCode,
          ...extra,
          at: now.toISOString(),
          on: todayInShanghai(now),
        },
      },
    ]);
  }

  private async names(staffIds: string[], departmentIds: string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const unique = [...new Set(staffIds)];
    if (unique.length) for (const s of await this.deps.staff.staffMembers(unique)) names.set(s.id, s.name);
    for (const d of new Set(departmentIds)) {
      try {
        names.set(d, (await this.deps.departments.getDepartment(d)).name);
      } catch (e) {
        if (!isAppError(e)) throw e;
      }
    }
    return names;
  }

  private async presentMany(p: Principal, rows: FeedbackRow[]): Promise<FeedbackView[]> {
    const names = await this.names(
      rows.flatMap((r) => [
        r.reporterAccountId,
        ...(r.ownerKind === 'staff' && r.ownerId ? [r.ownerId] : []),
      ]),
      rows.flatMap((r) => (r.ownerKind === 'department' && r.ownerId ? [r.ownerId] : [])),
    );
    const now = this.clock();
    return rows.map((r) => view(r, names, mayTriage(p, r, now)));
  }

  private async present(p: Principal, row: FeedbackRow): Promise<FeedbackView> {
    return (await this.presentMany(p, [row]))[0]!;
  }

  private async detail(p: Principal, row: FeedbackRow): Promise<FeedbackDetail> {
    const comments = await this.repo.comments(row.id);
    const names = await this.names(
      comments.map((c) => c.authorAccountId),
      [],
    );
    return { ...(await this.present(p, row)), comments: comments.map((c) => commentView(c, names)) };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Staff only (401 anonymous; residents 403 `feedback.staff_only`); what they may see is decided per report. */
function requireReporterOrTriager(principal: Principal | null): Principal {
  const p = requirePrincipal(principal);
  if (p.kind !== 'staff')
    throw new AppError('forbidden', 'feedback.staff_only', 'The feedback channel is for workbench staff.');
  return p;
}

/** Validates a body with its domain schema. @throws 400 `validation.invalid_field` naming every bad field. */
function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const field = i.path.map(String).join('.') || 'body';
    return { field, message: `${field}: ${i.message}` };
  });
  throw invalidMany('validation.invalid_field', `Invalid body: ${issues[0]!.message}`, issues);
}

function ownerOf(r: FeedbackRow): { kind: string; id: string } | null {
  return r.ownerKind && r.ownerId ? { kind: r.ownerKind, id: r.ownerId } : null;
}

function view(r: FeedbackRow, names: Map<string, string>, triage: boolean): FeedbackView {
  return {
    id: r.id,
    number: feedbackNumber(r.no),
    category: r.category,
    summary: r.summary,
    details: r.details,
    screen: r.screen,
    caseNumber: r.caseNumber,
    reporter: { id: r.reporterAccountId, name: names.get(r.reporterAccountId) ?? null },
    hallCode: r.hallCode,
    departmentId: r.departmentId,
    divisionCode: r.divisionCode,
    status: r.status,
    priority: r.priority,
    owner:
      r.ownerKind && r.ownerId
        ? { kind: r.ownerKind, id: r.ownerId, name: names.get(r.ownerId) ?? null }
        : null,
    resolution: r.resolution,
    commentCount: r.commentCount,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    triagedAt: r.triagedAt?.toISOString() ?? null,
    closedAt: r.closedAt?.toISOString() ?? null,
    mayTriage: triage,
  };
}

function commentView(c: FeedbackCommentRow, names: Map<string, string>): FeedbackComment {
  return {
    seq: c.seq,
    author: { id: c.authorAccountId, name: names.get(c.authorAccountId) ?? null },
    text: c.body,
    createdAt: c.createdAt.toISOString(),
  };
}

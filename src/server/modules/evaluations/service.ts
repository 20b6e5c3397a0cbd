import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { todayInShanghai, type WorkingDayCalendar } from '../../../domain/calendar.ts';
import type { CaseActor } from '../../../domain/case-state.ts';
import { countyCodeOf, toGb2260Code } from '../../../domain/division-code.ts';
import { AppError, conflict, invalid, notFound } from '../../../domain/errors.ts';
import {
  AppealDecisionSchema,
  AppealSchema,
  type AppealView,
  CallBackSchema,
  DEFAULT_RECTIFICATION_LIMITS,
  type EvaluationChannel,
  FollowUpSchema,
  isBadReview,
  isGoodReview,
  OutcomeSchema,
  RATABLE_STATUSES,
  type RatingStatus,
  type RectificationStatus,
  type RectificationView,
  type Satisfaction,
  SubmitEvaluationSchema,
} from '../../../domain/evaluation.ts';
import { anyGrantAllows, type ScopeTarget } from '../../../domain/roles.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { CalendarService } from '../calendar/service.ts';
import type { CasesService, CaseView } from '../cases/service.ts';
import type { HallsService } from '../halls/service.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import type { Principal } from '../identity/principal.ts';
import type { OutboxService } from '../outbox/service.ts';
import { placesOf, raterAccountOf, requireEvaluationAction } from './policy.ts';
import {
  type AppealRow,
  type EvaluationRow,
  EvaluationsRepository,
  type RectificationRow,
} from './repository.ts';

/** A rating as given (好差评). `token`: the one in the notification link or QR code (rating without signing in). */
export interface SubmitEvaluationInput {
  caseNumber: string;
  channel: EvaluationChannel;
  /** 1 非常满意 … 5 非常不满意 */
  level: number;
  comment?: string;
  token?: string;
  /** What a bad review is about: the service (default; the competent department) or the intake hall. */
  subject?: 'service' | 'hall';
}

export interface EvaluationsDeps {
  cases: Pick<CasesService, 'get' | 'locate' | 'requireAccess' | 'timeline' | 'command'>;
  halls: Pick<HallsService, 'getHall'>;
  calendar: Pick<CalendarService, 'calendar'>;
  outbox: Pick<OutboxService, 'append'>;
  idempotency: Pick<IdempotencyService, 'run'>;
  audit: Pick<AuditService, 'append'>;
}

export interface EvaluationsOptions {
  /** The installation's PII_HASH_KEY (or the generated one): the rating-link key is derived from it. */
  piiHashKey: string;
  /** Rectification limits in WORKING days from the bad review (default {@link DEFAULT_RECTIFICATION_LIMITS}). */
  limits?: { callBackWorkingDays: number; rectifyWorkingDays: number };
  clock?: () => Date;
  log?: { warn(message: string): void };
}

/**
 * EVALUATION_CALLBACK_WORKING_DAYS / EVALUATION_RECTIFY_WORKING_DAYS: the rectification limits in working
 * days (defaults 1 and 15, 国办发〔2019〕51号). @throws AppError(validation, `config.invalid`) for anything
 * but a whole number 1–60.
 */
export function loadRectificationLimits(env: NodeJS.ProcessEnv): {
  callBackWorkingDays: number;
  rectifyWorkingDays: number;
} {
  const read = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 60)
      throw invalid(
        name,
        `${name} must be a whole number of working days from 1 to 60; got "${raw}".`,
        'config.invalid',
      );
    return n;
  };
  return {
    callBackWorkingDays: read(
      'EVALUATION_CALLBACK_WORKING_DAYS',
      DEFAULT_RECTIFICATION_LIMITS.callBackWorkingDays,
    ),
    rectifyWorkingDays: read(
      'EVALUATION_RECTIFY_WORKING_DAYS',
      DEFAULT_RECTIFICATION_LIMITS.rectifyWorkingDays,
    ),
  };
}

/** Who rates, resolved before the transaction. */
interface Rater {
  kind: 'resident' | 'link' | 'hall_tablet';
  key: string;
  accountId: string | null;
  staffAccountId: string | null;
}

const RATABLE: ReadonlySet<string> = new Set(RATABLE_STATUSES);
const parseOr = <T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  value: unknown,
  code: string,
): T => {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw invalid(issue.path.map(String).join('.') || 'body', issue.message, code);
};

/**
 * 好差评 (国办发〔2019〕51号; GB/T 39046-2020 table 9; GB/T 39734/39735-2020): ratings per service event and
 * channel; bad reviews (levels 4–5) open a rectification (整改) with a call-back (回访), an outcome and the
 * resident's follow-up rating (追评); appeals (申诉) decided by a reviewer (复核).
 * Outbox (no personal data): `evaluation.submitted`, `evaluation.excluded`, `rectification.opened |
 * called_back | rectified | closed | overdue`.
 */
export class EvaluationsService {
  readonly db: Db;
  private readonly repo: EvaluationsRepository;
  private readonly deps: EvaluationsDeps;
  private readonly linkKey: Buffer;
  private readonly limits: { callBackWorkingDays: number; rectifyWorkingDays: number };
  private readonly clock: () => Date;
  private readonly log: { warn(message: string): void } | undefined;

  constructor(db: Db, deps: EvaluationsDeps, options: EvaluationsOptions) {
    this.db = db;
    this.repo = new EvaluationsRepository(db);
    this.deps = deps;
    // A key of its own, derived from PII_HASH_KEY, so a rating token reveals nothing about the blind indexes.
    this.linkKey = createHmac('sha256', options.piiHashKey).update('tongban/evaluation-link/v1').digest();
    this.limits = options.limits ?? { ...DEFAULT_RECTIFICATION_LIMITS };
    this.clock = options.clock ?? (() => new Date());
    this.log = options.log;
  }

  /**
   * The token of a case's rating link (`/rate/<number>?t=<token>`), sent in the decision/delivery message
   * and printed as a QR code: HMAC-SHA256 of the case number under a key derived from PII_HASH_KEY,
   * base64url, 22 characters (128 bits). Whoever holds it may rate that case once (rater `link`).
   */
  ratingToken(caseNumber: string): string {
    return createHmac('sha256', this.linkKey).update(caseNumber).digest('base64url').slice(0, 22);
  }

  /** Whether `token` is the rating token of `caseNumber` (constant-time comparison). */
  tokenMatches(caseNumber: string, token: string): boolean {
    const expected = Buffer.from(this.ratingToken(caseNumber));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * Records a rating; a bad review (level 4–5) opens its rectification in the same transaction, with its
   * due dates in WORKING days from today (Asia/Shanghai). Ways to rate:
   * - the signed-in applicant on their own case (channel pc / mobile); another's case is 404;
   * - the rating link's token, not signed in (channel sms / qr_code);
   * - the hall tablet, signed in as the window's staff, on a case received at their hall (hall_tablet).
   * A `delivered` case then moves to `rated` through the case engine's `rate` command (after commit; a
   * failure there is logged and leaves the rating recorded).
   * ONE counted rating per case (per subject), whatever the channel: a second — from the app, the link or
   * the tablet — is 409 `evaluation.already_rated`. Replays with the same `idempotencyKey` return the first answer.
   * @throws 400 `evaluation.invalid` (field named: level 1–5, channel, comment); 401 without a principal or
   *   token; 403 `evaluation.token_invalid` | `evaluation.channel_not_allowed` | `evaluation.other_hall`;
   *   404 `case.not_found`; 409 `evaluation.not_ratable` (no result yet) | `evaluation.already_rated`.
   */
  async submit(
    input: SubmitEvaluationInput,
    ctx: { principal: Principal | null; idempotencyKey?: string },
  ): Promise<{ id: string; rectificationId: string | null }> {
    const body = parseOr(SubmitEvaluationSchema, input, 'evaluation.invalid');
    const rater = await this.resolveRater(body.caseNumber, body.channel, body.token, ctx.principal);
    const view = await this.deps.cases.get(body.caseNumber);
    if (!RATABLE.has(view.status))
      throw conflict(
        'evaluation.not_ratable',
        `Case ${view.number} has no result yet (it is ${view.status}); it can be rated once it is decided, delivered or not accepted.`,
      );
    const place = await this.placeOf(view);
    const staffAccountId = rater.staffAccountId ?? (await this.servingStaff(view.number));
    const calendar = await this.deps.calendar.calendar();
    const now = this.clock();
    const today = todayInShanghai(now);
    const prior = await this.repo.findByCase(view.id, body.subject ?? 'service');
    const scope = `POST /api/v1/evaluations|${rater.key}|${view.number}`;
    const effect = async (tx: Tx) => {
      const id = randomUUID();
      const row = await this.repo.insertEvaluation(tx, {
        id,
        caseId: view.id,
        caseNumber: view.number,
        itemCode: view.itemCode,
        level: body.level,
        comment: body.comment ? body.comment : null,
        channel: body.channel,
        subject: body.subject ?? 'service',
        raterKind: rater.kind,
        raterKey: rater.key,
        hallCode: view.intakeHallCode,
        departmentId: view.competentDepartmentId,
        staffAccountId,
        intakeCountyCode: place.intakeCountyCode,
        decidingCountyCode: place.decidingCountyCode,
        ratedOn: today,
        createdAt: now,
      });
      if (!row) throw alreadyRated(view.number);
      const at = now.toISOString();
      await this.deps.outbox.append(tx, [
        {
          topic: 'evaluation.submitted',
          aggregateType: 'evaluation',
          aggregateId: id,
          payload: { ...evaluationPayload(row), at, on: today },
        },
      ]);
      let rectificationId: string | null = null;
      if (isBadReview(body.level)) {
        const r = await this.openRectification(tx, row, calendar, today, now);
        rectificationId = r.id;
      }
      return { id, rectificationId };
    };
    if (prior && !ctx.idempotencyKey) throw alreadyRated(view.number);
    const result = ctx.idempotencyKey
      ? (await this.deps.idempotency.run(scope, ctx.idempotencyKey, body, (tx) => effect(tx))).value
      : await this.db.transaction((tx) => effect(tx));
    if (view.status === 'delivered') await this.rateCase(view, result.id, body.level);
    return result;
  }

  /** What the rating page shows: the case (no personal data), whether the caller may rate, their rating. */
  async ratingStatus(
    caseNumber: string,
    ctx: { principal: Principal | null; token?: string },
  ): Promise<RatingStatus> {
    const channel: EvaluationChannel = ctx.token
      ? 'sms'
      : ctx.principal?.kind === 'staff'
        ? 'hall_tablet'
        : 'mobile';
    const rater = await this.resolveRater(caseNumber, channel, ctx.token, ctx.principal);
    const view = await this.deps.cases.get(caseNumber);
    // One rating per case whoever gives it (app, link or tablet: the same resident): it is theirs.
    const mine = await this.repo.findByCase(view.id, 'service');
    const rect = mine ? await this.repo.rectificationOfEvaluation(mine.id) : null;
    return {
      caseNumber: view.number,
      itemName: view.itemName,
      status: view.status,
      ratable: RATABLE.has(view.status) && !mine,
      mine: mine ? { level: mine.level, ratedOn: mine.ratedOn } : null,
      followUp:
        rect && rect.status !== 'cancelled' && rater.kind !== 'hall_tablet'
          ? { rectificationId: rect.id, status: rect.status, outcome: rect.outcome }
          : null,
    };
  }

  /**
   * The rectifications the caller handles or may appeal: of their department, hall or division subtree,
   * soonest due first. `status` filters (default: all). Working days left are counted from today.
   * @throws 401; 403 `evaluation.staff_only` for residents.
   */
  async rectifications(
    principal: Principal | null,
    options: { status?: RectificationStatus[]; limit?: number } = {},
  ): Promise<RectificationView[]> {
    const p = requireStaff(principal);
    const now = this.clock();
    const filter = placesOf(p, ['evaluation.rectify', 'evaluation.appeal', 'evaluation.review'], now);
    const rows = await this.repo.listRectifications(
      filter,
      options.status ?? null,
      Math.min(options.limit ?? 100, 200),
    );
    return this.rectificationViews(p, rows);
  }

  /**
   * Records the call-back (回访): the caller phoned the resident; `summary` says what was said.
   * @throws 400 `evaluation.invalid`; 404 `rectification.not_found`; 403 `rectification.out_of_scope`;
   *   409 `rectification.wrong_status` unless open.
   */
  async recordCallBack(
    principal: Principal | null,
    id: string,
    input: unknown,
    idempotencyKey: string,
  ): Promise<RectificationView> {
    const body = parseOr(CallBackSchema, input, 'evaluation.invalid');
    return this.rectificationStep(principal, id, idempotencyKey, 'call-back', body, ['open'], (p, now) => ({
      set: {
        status: 'called_back',
        calledBackAt: now,
        calledBackBy: p.accountId,
        callBackSummary: body.summary,
      },
      topic: 'rectification.called_back',
    }));
  }

  /**
   * Records the outcome of the rectification (整改结果); the resident's follow-up rating then closes it.
   * @throws as {@link recordCallBack}; 409 `rectification.wrong_status` unless called back.
   */
  async recordOutcome(
    principal: Principal | null,
    id: string,
    input: unknown,
    idempotencyKey: string,
  ): Promise<RectificationView> {
    const body = parseOr(OutcomeSchema, input, 'evaluation.invalid');
    return this.rectificationStep(
      principal,
      id,
      idempotencyKey,
      'outcome',
      body,
      ['called_back'],
      (p, now) => ({
        set: { status: 'rectified', rectifiedAt: now, rectifiedBy: p.accountId, outcome: body.outcome },
        topic: 'rectification.rectified',
      }),
    );
  }

  /**
   * 追评: the rater's follow-up rating after the outcome, which closes the rectification. Allowed to the
   * case's applicant signed in, or the holder of the case's rating-link token.
   * @throws 400; 401; 403 `evaluation.token_invalid`; 404 `rectification.not_found`; 409
   *   `rectification.wrong_status` unless rectified.
   */
  async followUp(
    id: string,
    input: unknown,
    ctx: { principal: Principal | null; idempotencyKey?: string },
  ): Promise<{ id: string; status: RectificationStatus }> {
    const body = parseOr(FollowUpSchema, input, 'evaluation.invalid');
    const rect = await this.repo.findRectification(id);
    if (!rect) throw rectificationNotFound(id);
    if (body.token) {
      if (!this.tokenMatches(rect.caseNumber, body.token)) throw tokenInvalid();
    } else {
      const p = ctx.principal;
      if (!p)
        throw new AppError(
          'unauthenticated',
          'auth.required',
          'Sign in, or open the rating link from your message.',
        );
      const account = raterAccountOf(p);
      const located = await this.deps.cases.locate(rect.caseNumber);
      if (!account || located.target.applicantAccountId !== account) throw rectificationNotFound(id);
    }
    const now = this.clock();
    const effect = async (tx: Tx) => {
      const locked = await this.repo.lockRectification(tx, id);
      if (!locked) throw rectificationNotFound(id);
      if (locked.status !== 'rectified') throw wrongStatus(locked, 'the follow-up rating', ['rectified']);
      const row = await this.repo.updateRectification(tx, id, {
        status: 'closed',
        followUpLevel: body.level,
        followUpComment: body.comment ? body.comment : null,
        closedAt: now,
      });
      await this.deps.outbox.append(tx, [rectificationEvent('rectification.closed', row, now)]);
      return { id, status: row.status };
    };
    return ctx.idempotencyKey
      ? (
          await this.deps.idempotency.run(
            `POST /api/v1/rectifications/${id}/follow-up`,
            ctx.idempotencyKey,
            body,
            effect,
          )
        ).value
      : this.db.transaction(effect);
  }

  /**
   * 申诉: staff with `evaluation.appeal` over the case's place appeal a review as malicious or mistaken,
   * once per review. Audited (`evaluation.appeal`).
   * @throws 400; 404 `evaluation.not_found`; 403 `evaluation.appeal_forbidden`; 409 `evaluation.already_appealed`.
   */
  async appeal(
    principal: Principal | null,
    evaluationId: string,
    input: unknown,
    idempotencyKey: string,
  ): Promise<AppealView> {
    const body = parseOr(AppealSchema, input, 'evaluation.invalid');
    const ev = await this.repo.findEvaluation(evaluationId);
    if (!ev) throw evaluationNotFound(evaluationId);
    const now = this.clock();
    const p = requireEvaluationAction(
      principal,
      'evaluation.appeal',
      evaluationTarget(ev),
      now,
      'evaluation.appeal_forbidden',
      'Only staff who handle the case (its intake hall, its competent department) or administrators of its place may appeal this review.',
      () => evaluationNotFound(evaluationId),
    );
    const result = await this.deps.idempotency.run(
      `POST /api/v1/evaluations/${evaluationId}/appeal|${p.accountId}`,
      idempotencyKey,
      body,
      async (tx) => {
        const row = await this.repo.insertAppeal(tx, {
          id: randomUUID(),
          evaluationId,
          caseNumber: ev.caseNumber,
          ground: body.ground,
          reason: body.reason,
          appellantAccountId: p.accountId,
          appealedAt: now,
        });
        if (!row)
          throw conflict(
            'evaluation.already_appealed',
            'This review was already appealed; a review is appealed once. See its appeal in the reviewer’s queue.',
          );
        await this.deps.audit.append(tx, {
          at: now,
          actor: { kind: 'staff', id: p.accountId },
          action: 'evaluation.appeal',
          target: { type: 'evaluation', id: evaluationId },
          details: { appealId: row.id, ground: body.ground, caseNumber: ev.caseNumber },
        });
        return appealView(row, ev, false);
      },
    );
    return result.value;
  }

  /**
   * 复核 queue: appeals about ratings in the caller's `evaluation.review` scope (county and up), pending by
   * default. @throws 401; 403 `evaluation.staff_only`.
   */
  async appeals(
    principal: Principal | null,
    options: { status?: 'pending' | 'upheld' | 'rejected' | 'all' } = {},
  ): Promise<AppealView[]> {
    const p = requireStaff(principal);
    const now = this.clock();
    const filter = placesOf(p, ['evaluation.review'], now);
    const status = options.status === 'all' ? null : (options.status ?? 'pending');
    const rows = await this.repo.listAppeals(filter.divisionPrefixes, status, 200);
    const evs = new Map(
      (await this.repo.evaluationsByIds(rows.map((r) => r.evaluationId))).map((e) => [e.id, e]),
    );
    return rows.flatMap((a) => {
      const ev = evs.get(a.evaluationId);
      return ev ? [appealView(a, ev, this.canDecide(p, a, ev, now))] : [];
    });
  }

  /**
   * 复核: a reviewer with `evaluation.review` over the case, never the appellant, upholds the appeal (the
   * review is excluded from satisfaction figures, `evaluation.excluded`, its rectification cancelled) or
   * rejects it (the review stands). Audited (`evaluation.review`).
   * @throws 400; 404 `evaluation_appeal.not_found`; 403 `evaluation.review_forbidden` |
   *   `evaluation.own_appeal`; 409 `evaluation_appeal.decided`.
   */
  async decideAppeal(
    principal: Principal | null,
    appealId: string,
    input: unknown,
    idempotencyKey: string,
  ): Promise<AppealView> {
    const body = parseOr(AppealDecisionSchema, input, 'evaluation.invalid');
    const appeal = await this.repo.findAppeal(appealId);
    if (!appeal) throw appealNotFound(appealId);
    const ev = (await this.repo.findEvaluation(appeal.evaluationId))!;
    const now = this.clock();
    const p = requireEvaluationAction(
      principal,
      'evaluation.review',
      { divisionCodes: [ev.intakeCountyCode, ev.decidingCountyCode] },
      now,
      'evaluation.review_forbidden',
      'Appeals are decided by a county, prefecture or province administrator whose scope covers the case.',
      () => appealNotFound(appealId),
      evaluationTarget(ev),
    );
    if (p.accountId === appeal.appellantAccountId)
      throw new AppError(
        'forbidden',
        'evaluation.own_appeal',
        'You filed this appeal: another reviewer decides it (复核 is never by the appellant).',
      );
    const result = await this.deps.idempotency.run(
      `POST /api/v1/evaluation-appeals/${appealId}/decision|${p.accountId}`,
      idempotencyKey,
      body,
      async (tx) => {
        const locked = await this.repo.lockAppeal(tx, appealId);
        if (locked?.status !== 'pending')
          throw conflict(
            'evaluation_appeal.decided',
            `This appeal was already decided (${locked?.status}); nothing changed.`,
          );
        const row = await this.repo.updateAppeal(tx, appealId, {
          status: body.decision === 'uphold' ? 'upheld' : 'rejected',
          reviewerAccountId: p.accountId,
          decisionReason: body.reason,
          decidedAt: now,
        });
        let current = ev;
        if (body.decision === 'uphold') {
          await this.repo.excludeEvaluation(tx, ev.id);
          current = { ...ev, excluded: true };
          const at = now.toISOString();
          await this.deps.outbox.append(tx, [
            {
              topic: 'evaluation.excluded',
              aggregateType: 'evaluation',
              aggregateId: ev.id,
              payload: { ...evaluationPayload(ev), appealId, at, on: todayInShanghai(now) },
            },
          ]);
          const rect = await this.repo.rectificationOfEvaluation(ev.id, tx);
          if (rect && rect.status !== 'closed' && rect.status !== 'cancelled')
            await this.repo.updateRectification(tx, rect.id, { status: 'cancelled', cancelledAt: now });
        }
        await this.deps.audit.append(tx, {
          at: now,
          actor: { kind: 'staff', id: p.accountId },
          action: 'evaluation.review',
          target: { type: 'evaluation', id: ev.id },
          details: { appealId, decision: body.decision, caseNumber: ev.caseNumber },
        });
        return appealView(row, current, false);
      },
    );
    return result.value;
  }

  /**
   * Public satisfaction figures (满意度) of a hall or an item: counted ratings (excluded reviews left out),
   * per level, and the satisfaction rate = levels 1–2 / counted (docs/metrics.md); null with no ratings.
   */
  async satisfaction(kind: 'hall' | 'item', code: string): Promise<Satisfaction> {
    const counts = await this.repo.levelCounts(kind, code);
    const perLevel = {
      1: counts[1] ?? 0,
      2: counts[2] ?? 0,
      3: counts[3] ?? 0,
      4: counts[4] ?? 0,
      5: counts[5] ?? 0,
    };
    const count = perLevel[1] + perLevel[2] + perLevel[3] + perLevel[4] + perLevel[5];
    const good = [1, 2, 3, 4, 5].filter(isGoodReview).reduce((s, l) => s + perLevel[l as 1], 0);
    return { kind, code, count, perLevel, satisfactionRate: count === 0 ? null : good / count };
  }

  /**
   * Flags rectifications newly past a due date (open past the call-back day, or not rectified past the
   * rectify day, both in Asia/Shanghai): emits `rectification.overdue` once per rectification. Called by
   * the jobs loop every round. @returns how many were flagged.
   */
  async flagOverdue(limit = 200): Promise<number> {
    const now = this.clock();
    const today = todayInShanghai(now);
    return this.db.transaction(async (tx) => {
      const rows = await this.repo.lockNewlyOverdue(tx, today, limit);
      for (const r of rows) {
        await this.repo.updateRectification(tx, r.id, { overdueFlaggedAt: now });
        await this.deps.outbox.append(tx, [rectificationEvent('rectification.overdue', r, now)]);
      }
      return rows.length;
    });
  }

  // -------------------------------------------------------------------------------------------------

  private async resolveRater(
    caseNumber: string,
    channel: EvaluationChannel,
    token: string | undefined,
    principal: Principal | null,
  ): Promise<Rater> {
    if (token !== undefined) {
      if (channel !== 'sms' && channel !== 'qr_code')
        throw new AppError(
          'forbidden',
          'evaluation.channel_not_allowed',
          'A rating link or QR code rates with channel sms or qr_code.',
        );
      if (!this.tokenMatches(caseNumber, token)) throw tokenInvalid();
      return { kind: 'link', key: 'link', accountId: null, staffAccountId: null };
    }
    if (!principal)
      throw new AppError(
        'unauthenticated',
        'auth.required',
        'Sign in to rate your case, or open the rating link from your message.',
      );
    if (principal.kind === 'staff') {
      if (channel !== 'hall_tablet')
        throw new AppError(
          'forbidden',
          'evaluation.channel_not_allowed',
          'Staff never rate their own work: the applicant rates on the hall tablet (channel hall_tablet).',
        );
      await this.deps.cases.requireAccess(principal, caseNumber, null);
      const located = await this.deps.cases.locate(caseNumber);
      if (!principal.hallCode || located.intakeHallCode !== principal.hallCode)
        throw new AppError(
          'forbidden',
          'evaluation.other_hall',
          `Case ${caseNumber} was not received at your hall: the tablet rates the cases handled at this hall only.`,
        );
      return {
        kind: 'hall_tablet',
        key: `hall_tablet:${principal.hallCode}`,
        accountId: null,
        staffAccountId: principal.accountId,
      };
    }
    if (channel !== 'pc' && channel !== 'mobile')
      throw new AppError(
        'forbidden',
        'evaluation.channel_not_allowed',
        'Signed in, you rate from the app or the website (channel mobile or pc).',
      );
    const account = raterAccountOf(principal);
    const located = await this.deps.cases.locate(caseNumber);
    if (!account || located.target.applicantAccountId !== account)
      throw notFound('case.not_found', `No case ${caseNumber}.`, 'caseNumber');
    return { kind: 'resident', key: `account:${account}`, accountId: account, staffAccountId: null };
  }

  private async placeOf(view: CaseView): Promise<{ intakeCountyCode: string; decidingCountyCode: string }> {
    const decidingCountyCode = countyCodeOf(view.decidingDivisionCode);
    if (!view.intakeHallCode) return { intakeCountyCode: decidingCountyCode, decidingCountyCode };
    const hall = await this.deps.halls.getHall(view.intakeHallCode);
    return { intakeCountyCode: hall.countyCode ?? toGb2260Code(hall.divisionCode), decidingCountyCode };
  }

  /** The staff member who served the applicant, from the timeline: who handed over the result, else who received it. */
  private async servingStaff(caseNumber: string): Promise<string | null> {
    const events = await this.deps.cases.timeline(caseNumber);
    const byStaff = (type: string) =>
      [...events]
        .reverse()
        .find((e) => e.type === type && (e.actor as unknown as CaseActor | null)?.kind === 'staff');
    const e = byStaff('deliver') ?? byStaff('receive');
    return (e?.actor as unknown as CaseActor | undefined)?.id ?? null;
  }

  private async rateCase(view: CaseView, evaluationId: string, level: number): Promise<void> {
    const located = await this.deps.cases.locate(view.number);
    const actor: CaseActor = located.target.applicantAccountId
      ? { kind: 'applicant', id: located.target.applicantAccountId }
      : { kind: 'system', id: 'evaluations' };
    try {
      await this.deps.cases.command(
        view.number,
        { type: 'rate', level },
        { actor, idempotencyKey: `evaluation-rate:${evaluationId}` },
      );
    } catch (e) {
      this.log?.warn(
        `evaluations: case ${view.number} stays delivered (rate command refused: ${(e as Error).message})`,
      );
    }
  }

  private async openRectification(
    tx: Tx,
    ev: EvaluationRow,
    calendar: WorkingDayCalendar,
    today: string,
    now: Date,
  ): Promise<RectificationRow> {
    const callBack = calendar.addWorkingDays(today, this.limits.callBackWorkingDays);
    const rectify = calendar.addWorkingDays(today, this.limits.rectifyWorkingDays);
    const hallResponsible = ev.subject === 'hall' ? !!ev.hallCode : !ev.departmentId;
    const row = await this.repo.insertRectification(tx, {
      id: randomUUID(),
      evaluationId: ev.id,
      caseNumber: ev.caseNumber,
      itemCode: ev.itemCode,
      departmentId: hallResponsible ? null : ev.departmentId,
      hallCode: ev.hallCode,
      countyCode: hallResponsible ? ev.intakeCountyCode : ev.decidingCountyCode,
      status: 'open',
      openedOn: today,
      callBackDue: callBack.date,
      rectifyDue: rectify.date,
      provisional: callBack.provisional || rectify.provisional,
      createdAt: now,
    });
    await this.deps.outbox.append(tx, [rectificationEvent('rectification.opened', row, now)]);
    return row;
  }

  private async rectificationStep(
    principal: Principal | null,
    id: string,
    idempotencyKey: string,
    step: string,
    body: unknown,
    from: RectificationStatus[],
    change: (p: Principal, now: Date) => { set: Partial<RectificationRow>; topic: string },
  ): Promise<RectificationView> {
    const rect = await this.repo.findRectification(id);
    if (!rect) throw rectificationNotFound(id);
    const now = this.clock();
    const p = requireEvaluationAction(
      principal,
      'evaluation.rectify',
      rectificationTarget(rect),
      now,
      'rectification.out_of_scope',
      'This rectification belongs to another department or hall: its own acceptance officers, approvers and administrators record the call-back and the outcome.',
      () => rectificationNotFound(id),
      {
        divisionCodes: [rect.countyCode],
        hallCodes: rect.hallCode ? [rect.hallCode] : [],
        departmentIds: rect.departmentId ? [rect.departmentId] : [],
      },
    );
    const calendar = await this.deps.calendar.calendar();
    const result = await this.deps.idempotency.run(
      `POST /api/v1/rectifications/${id}/${step}|${p.accountId}`,
      idempotencyKey,
      body,
      async (tx) => {
        const locked = await this.repo.lockRectification(tx, id);
        if (!locked) throw rectificationNotFound(id);
        if (!from.includes(locked.status)) throw wrongStatus(locked, `the ${step}`, from);
        const { set, topic } = change(p, now);
        const row = await this.repo.updateRectification(tx, id, set);
        await this.deps.outbox.append(tx, [rectificationEvent(topic, row, now)]);
        return row;
      },
    );
    const row = result.value as unknown as RectificationRow;
    const fresh = (await this.repo.findRectification(row.id)) ?? rect;
    return (await this.rectificationViews(p, [fresh], calendar))[0]!;
  }

  private async rectificationViews(
    p: Principal,
    rows: RectificationRow[],
    calendarIn?: WorkingDayCalendar,
  ): Promise<RectificationView[]> {
    if (rows.length === 0) return [];
    const calendar = calendarIn ?? (await this.deps.calendar.calendar());
    const now = this.clock();
    const today = todayInShanghai(now);
    const evs = new Map(
      (await this.repo.evaluationsByIds(rows.map((r) => r.evaluationId))).map((e) => [e.id, e]),
    );
    const appeals = new Map(
      (await this.repo.appealsOf(rows.map((r) => r.evaluationId))).map((a) => [a.evaluationId, a]),
    );
    return rows.flatMap((r) => {
      const ev = evs.get(r.evaluationId);
      if (!ev) return [];
      const a = appeals.get(r.evaluationId);
      const due = r.status === 'open' ? r.callBackDue : r.status === 'called_back' ? r.rectifyDue : null;
      const overdue =
        r.status === 'open' && r.callBackDue < today
          ? 'call_back'
          : (r.status === 'open' || r.status === 'called_back') && r.rectifyDue < today
            ? 'rectify'
            : null;
      return [
        {
          id: r.id,
          evaluationId: r.evaluationId,
          caseNumber: r.caseNumber,
          itemCode: r.itemCode,
          departmentId: r.departmentId,
          hallCode: r.hallCode,
          countyCode: r.countyCode,
          status: r.status,
          openedOn: r.openedOn,
          callBackDue: r.callBackDue,
          rectifyDue: r.rectifyDue,
          workingDaysLeft: due ? workingDaysLeft(calendar, today, due) : null,
          overdue,
          provisional: r.provisional,
          callBack:
            r.calledBackAt && r.calledBackBy
              ? {
                  at: new Date(r.calledBackAt).toISOString(),
                  by: r.calledBackBy,
                  summary: r.callBackSummary ?? '',
                }
              : null,
          outcome:
            r.rectifiedAt && r.rectifiedBy
              ? { at: new Date(r.rectifiedAt).toISOString(), by: r.rectifiedBy, text: r.outcome ?? '' }
              : null,
          followUp: r.followUpLevel ? { level: r.followUpLevel, comment: r.followUpComment } : null,
          evaluation: {
            level: ev.level,
            comment: ev.comment,
            channel: ev.channel,
            ratedOn: ev.ratedOn,
            excluded: ev.excluded,
          },
          appeal: a ? { id: a.id, status: a.status, ground: a.ground } : null,
          can: {
            rectify:
              (r.status === 'open' || r.status === 'called_back') &&
              anyGrantAllows(p.grants, 'evaluation.rectify', rectificationTarget(r), now),
            appeal:
              !a && !ev.excluded && anyGrantAllows(p.grants, 'evaluation.appeal', evaluationTarget(ev), now),
          },
        },
      ];
    });
  }

  private canDecide(p: Principal, a: AppealRow, ev: EvaluationRow, now: Date): boolean {
    return (
      a.status === 'pending' &&
      a.appellantAccountId !== p.accountId &&
      anyGrantAllows(
        p.grants,
        'evaluation.review',
        { divisionCodes: [ev.intakeCountyCode, ev.decidingCountyCode] },
        now,
      )
    );
  }
}

/** Working days from `today` to `due` (0: due today; negative: overdue by that many working days). */
function workingDaysLeft(calendar: WorkingDayCalendar, today: string, due: string): number {
  return calendar.workingDaysBetween(today, due).days;
}

/** Where a review lies for the appeal policy: the case's intake hall, competent department, counties. */
function evaluationTarget(ev: EvaluationRow): ScopeTarget {
  return {
    divisionCodes: [ev.intakeCountyCode, ev.decidingCountyCode],
    hallCodes: ev.hallCode ? [ev.hallCode] : [],
    departmentIds: ev.departmentId ? [ev.departmentId] : [],
    itemCode: ev.itemCode,
  };
}

/** Where a rectification lies: the responsible department (or hall, for hall complaints) and its county. */
function rectificationTarget(r: RectificationRow): ScopeTarget {
  return {
    divisionCodes: [r.countyCode],
    hallCodes: !r.departmentId && r.hallCode ? [r.hallCode] : [],
    departmentIds: r.departmentId ? [r.departmentId] : [],
  };
}

/** The outbox payload of a rating (contract of issue 7; no personal data). */
function evaluationPayload(ev: EvaluationRow) {
  return {
    evaluationId: ev.id,
    caseId: ev.caseId,
    caseNumber: ev.caseNumber,
    itemCode: ev.itemCode,
    level: ev.level,
    channel: ev.channel,
    hallCode: ev.hallCode,
    departmentId: ev.departmentId,
    staffAccountId: ev.staffAccountId,
    intakeCountyCode: ev.intakeCountyCode,
    decidingCountyCode: ev.decidingCountyCode,
  };
}

function rectificationEvent(topic: string, r: RectificationRow, now: Date) {
  return {
    topic,
    aggregateType: 'rectification',
    aggregateId: r.id,
    payload: {
      rectificationId: r.id,
      evaluationId: r.evaluationId,
      departmentId: r.departmentId,
      hallCode: r.hallCode,
      countyCode: r.countyCode,
      at: now.toISOString(),
      on: todayInShanghai(now),
    },
  };
}

function appealView(a: AppealRow, ev: EvaluationRow, canDecide: boolean): AppealView {
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: a.id,
    evaluationId: a.evaluationId,
    caseNumber: a.caseNumber,
    ground: a.ground,
    reason: a.reason,
    appellantAccountId: a.appellantAccountId,
    appealedAt: iso(a.appealedAt)!,
    status: a.status,
    reviewerAccountId: a.reviewerAccountId,
    decisionReason: a.decisionReason,
    decidedAt: iso(a.decidedAt),
    evaluation: { level: ev.level, comment: ev.comment, ratedOn: ev.ratedOn },
    canDecide,
  };
}

function requireStaff(principal: Principal | null): Principal {
  if (!principal) throw new AppError('unauthenticated', 'auth.required', 'Sign in first.');
  if (principal.kind !== 'staff')
    throw new AppError(
      'forbidden',
      'evaluation.staff_only',
      'Rectifications and appeals are handled by staff.',
    );
  return principal;
}

const alreadyRated = (number: string) =>
  conflict(
    'evaluation.already_rated',
    `Case ${number} was already rated: one rating per case, whatever the channel (app, link or hall tablet). A bad review is followed up by the department; you rate again (追评) after its rectification.`,
  );
const tokenInvalid = () =>
  new AppError(
    'forbidden',
    'evaluation.token_invalid',
    'This rating link is not valid for this case: open the link from your message again, or sign in to rate.',
  );
const evaluationNotFound = (id: string) => notFound('evaluation.not_found', `No review ${id}.`, 'id');
const appealNotFound = (id: string) => notFound('evaluation_appeal.not_found', `No appeal ${id}.`, 'id');
const rectificationNotFound = (id: string) =>
  notFound('rectification.not_found', `No rectification ${id}.`, 'id');
const wrongStatus = (r: RectificationRow, what: string, from: readonly string[]) =>
  conflict(
    'rectification.wrong_status',
    `Cannot record ${what}: the rectification is ${r.status} (allowed when ${from.join(' or ')}); nothing changed.`,
  );

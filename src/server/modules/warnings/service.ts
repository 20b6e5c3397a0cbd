import {
  ALERT_RULE_NAMES,
  ALERT_RULES,
  ALERT_STATUSES,
  type Alert,
  type AlertRule,
} from '../../../domain/alerts.ts';
import { addCalendarDays, todayInShanghai } from '../../../domain/calendar.ts';
import { isAncestorOrSelf, isDivisionCode } from '../../../domain/division-code.ts';
import { AppError, conflict, invalid, notFound } from '../../../domain/errors.ts';
import { isBadReview } from '../../../domain/evaluation.ts';
import type { KpiDaily } from '../../../domain/kpi.ts';
import { anyGrantAllows, grantInForce, roleAllows, type ScopeTarget } from '../../../domain/roles.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { HallsService } from '../halls/service.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import { forbidden, requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';
import type { KpiScope } from '../kpi/service.ts';
import type { OutboxHandler, OutboxRow } from '../outbox/service.ts';
import type { RegionsService } from '../regions/service.ts';
import { type AlertRow, type RaiseRow, WarningsRepository } from './repository.ts';
import {
  badReviewCluster,
  DEFAULT_WARNING_THRESHOLDS,
  evaluateSeries,
  type RuleFiring,
  type WarningThresholds,
} from './rules.ts';

/** An alert as the API shows it: {@link Alert} plus where it sits and the acknowledgement's note. */
export type AlertView = Alert & {
  /** `division:<code>`, `hall:<code>` or `department:<id>`. */
  place: string;
  /** The day (YYYY-MM-DD) of a periodic rule's alert; `ongoing` for hall_down and bad_review_cluster. */
  period: string;
  departmentId: string | null;
  acknowledgeNote: string | null;
};

/** The actor recorded when the system itself resolves an alert (a hall back open). */
export const SYSTEM_ACTOR = 'system';

/** What the warnings module needs of other modules (their public services). */
export interface WarningsDeps {
  /** KpiService.daily: the scope's KPI series (the periodic rules read nothing else). */
  kpi: { daily(scope: KpiScope, from: string, to: string): Promise<KpiDaily[]> };
  /** The places the sweep walks (province, prefectures, counties) and their names for titles. */
  regions?: Pick<RegionsService, 'listDivisions'>;
  /** A closed hall's opening hours right now (`openNow`): a closure is a fault only in opening hours. */
  halls?: Pick<HallsService, 'getHall'>;
  idempotency: Pick<IdempotencyService, 'run'>;
  audit?: Pick<AuditService, 'append'>;
  thresholds?: WarningThresholds;
  /** Current instant (simulated time in `tongban simulate`, movable in tests); default the system clock. */
  clock?: () => Date;
}

const HALL_STATUS_NAMES: Record<string, string> = {
  offline: '离线',
  degraded: '降级运行',
  closed: '开放时间内关闭',
};
const SWEEP_ID = 'periodic';

/**
 * Early warnings (预警): rules over the KPI rollups, hall statuses and reviews raise DE-DUPLICATED alerts
 * (rule + place + period: a rule that keeps firing adds to the open alert's `occurrences`) to the admins
 * whose scope covers them (`dashboard.read` to see, `alert.manage` to acknowledge and resolve).
 *
 * - Periodic rules (overdue_spike, backlog_growth, response_time_breach, offline_share_drop_65_plus):
 *   {@link evaluate}, called by the jobs loop every round, runs a sweep at most every
 *   `sweep.intervalMinutes` minutes, claimed on the database so one node runs it, over
 *   KpiService.daily for the province, every prefecture and every county (pure decisions: ./rules.ts).
 * - Event-driven rules from the outbox ({@link handler}): hall_down (`hall.status_changed`: offline →
 *   critical, degraded → warning, closed → watched and raised by the sweep when it falls in opening
 *   hours; back `open` resolves it as `system`) and bad_review_cluster (`evaluation.submitted` levels 4–5,
 *   ≥ N at one hall or department within M calendar days; `evaluation.excluded` removes a review).
 */
export class WarningsService {
  readonly db: Db;
  private readonly repo: WarningsRepository;
  private readonly deps: WarningsDeps;
  readonly thresholds: WarningThresholds;
  private readonly clock: () => Date;
  /** This node does not try to claim the sweep before this instant (saves the round trips each round). */
  private notBefore = 0;
  private places: { code: string; name: string }[] | null = null;

  constructor(db: Db, deps: WarningsDeps) {
    this.db = db;
    this.repo = new WarningsRepository(db);
    this.deps = deps;
    this.thresholds = deps.thresholds ?? DEFAULT_WARNING_THRESHOLDS;
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Outbox handler (`hall.status_changed`, `evaluation.submitted`, `evaluation.excluded`); writes with `tx` only. */
  readonly handler: OutboxHandler = async (tx, event) => {
    if (event.topic === 'hall.status_changed') await this.onHallStatus(tx, event);
    else if (event.topic === 'evaluation.submitted') await this.onEvaluation(tx, event);
    else if (event.topic === 'evaluation.excluded') {
      const id = event.payload.evaluationId;
      if (typeof id === 'string') await this.repo.removeBadReview(tx, id);
    }
  };

  private async onHallStatus(tx: Tx, event: OutboxRow): Promise<void> {
    const p = event.payload as {
      hallCode: string;
      divisionCode: string;
      to: string;
      at?: string;
      reason?: string;
    };
    const at = p.at ? new Date(p.at) : event.createdAt;
    const key = hallDownKey(p.hallCode);
    if (p.to === 'closed')
      await this.repo.watchClosedHall(tx, {
        hallCode: p.hallCode,
        divisionCode: p.divisionCode,
        reason: p.reason ?? null,
        since: at,
      });
    else await this.repo.unwatchClosedHall(tx, p.hallCode);
    if (p.to === 'open') {
      await this.repo.resolveKey(tx, key, SYSTEM_ACTOR, at, '大厅恢复开放（系统自动解除）');
      return;
    }
    if (p.to !== 'offline' && p.to !== 'degraded') return;
    await this.repo.raise(tx, hallDownRow(p.hallCode, p.divisionCode, p.to, p.reason ?? null, at), {
      suppressIfResolved: false,
    });
  }

  private async onEvaluation(tx: Tx, event: OutboxRow): Promise<void> {
    const p = event.payload as {
      evaluationId: string;
      caseId?: string;
      level: number;
      hallCode: string | null;
      departmentId: string | null;
      intakeCountyCode: string;
      decidingCountyCode: string;
      at?: string;
    };
    if (!isBadReview(p.level)) return;
    const at = p.at ? new Date(p.at) : event.createdAt;
    const hallDivision = p.hallCode ? divisionOfHallCode(p.hallCode, p.intakeCountyCode) : p.intakeCountyCode;
    await this.repo.addBadReview(tx, {
      evaluationId: p.evaluationId,
      caseId: p.caseId ?? null,
      hallCode: p.hallCode,
      departmentId: p.departmentId,
      divisionCode: hallDivision,
      at,
    });
    const t = this.thresholds.bad_review_cluster;
    const places: {
      place: { hallCode: string } | { departmentId: string };
      key: string;
      divisionCode: string;
    }[] = [];
    if (p.hallCode)
      places.push({ place: { hallCode: p.hallCode }, key: `hall:${p.hallCode}`, divisionCode: hallDivision });
    if (p.departmentId)
      places.push({
        place: { departmentId: p.departmentId },
        key: `department:${p.departmentId}`,
        divisionCode: p.decidingCountyCode,
      });
    for (const { place, key, divisionCode } of places) {
      const dedupeKey = `bad_review_cluster|${key}|ongoing`;
      const windowStart = new Date(at.getTime() - t.windowDays * 86_400_000);
      // reviews an admin already dealt with (a resolved cluster) do not fire it again
      const resolved = await this.repo.lastResolvedAt(tx, dedupeKey);
      const after = resolved && resolved > windowStart ? resolved : windowStart;
      const count = await this.repo.countBadReviews(tx, place, after, at);
      const severity = badReviewCluster(count, t);
      if (!severity) continue;
      const where = 'hallCode' in place ? `大厅 ${place.hallCode}` : '实施部门';
      await this.repo.raise(
        tx,
        {
          rule: 'bad_review_cluster',
          severity,
          dedupeKey,
          place: key,
          period: 'ongoing',
          divisionCode,
          hallCode: 'hallCode' in place ? place.hallCode : null,
          departmentId: 'departmentId' in place ? place.departmentId : null,
          title: `${where} 近${t.windowDays}日差评 ${count} 条`,
          details: { badReviews: count, windowDays: t.windowDays, since: after.toISOString() },
          at,
        },
        { suppressIfResolved: false },
      );
    }
  }

  /**
   * Evaluates the periodic rules when the sweep is due (at most every `sweep.intervalMinutes`, claimed on
   * the database: of several nodes one runs it). Reads KpiService.daily for the province, each prefecture
   * and each county over the last `sweep.seriesDays` days (Asia/Shanghai, through today) — never inside a
   * transaction — and raises or updates an alert per firing (period = the latest day; an alert an admin
   * resolved is not raised again for the same day). Also checks the closed halls in opening hours.
   * `force`: run now without the claim (tests, the CLI).
   * @returns alerts raised or updated (0 when the sweep was not due or another node runs it).
   */
  async evaluate(options: { force?: boolean } = {}): Promise<number> {
    const now = this.clock();
    if (!options.force) {
      if (now.getTime() < this.notBefore) return 0;
      const next = new Date(now.getTime() + this.thresholds.sweep.intervalMinutes * 60_000);
      const claimed = await this.repo.claimSweep(SWEEP_ID, now, next);
      // claimed: due again at `next`; not claimed: another node runs it — look again in a minute at most
      this.notBefore = claimed
        ? next.getTime()
        : now.getTime() + Math.min(60_000, next.getTime() - now.getTime());
      if (!claimed) return 0;
    }
    let raised = await this.sweepClosedHalls(now);
    const to = todayInShanghai(now);
    const from = addCalendarDays(to, 1 - this.thresholds.sweep.seriesDays);
    // one place failing (its rollups unreadable) does not keep the others from being checked; the first
    // failure is rethrown at the end so the jobs loop logs it
    let failure: unknown = null;
    for (const place of await this.sweepPlaces()) {
      try {
        const series = await this.deps.kpi.daily({ divisionCode: place.code }, from, to);
        for (const firing of evaluateSeries(series, this.thresholds))
          if (await this.raisePeriodic(place, firing, now)) raised++;
      } catch (e) {
        failure ??= e;
      }
    }
    if (!options.force) await this.repo.finishSweep(SWEEP_ID, raised);
    if (failure) throw failure;
    return raised;
  }

  /**
   * Raises (or adds to) the alert of one periodic firing at a division. Public for the sweep and the
   * simulation. @returns false when an admin already resolved this rule's alert for this place and day.
   */
  async raisePeriodic(
    place: { code: string; name: string },
    firing: RuleFiring,
    now: Date,
  ): Promise<boolean> {
    const r = await this.repo.raise(
      this.db,
      {
        rule: firing.rule,
        severity: firing.severity,
        dedupeKey: `${firing.rule}|division:${place.code}|${firing.day}`,
        place: `division:${place.code}`,
        period: firing.day,
        divisionCode: place.code,
        hallCode: null,
        departmentId: null,
        title: `${place.name} ${firing.summary}`,
        details: { ...firing.details, day: firing.day },
        at: now,
      },
      { suppressIfResolved: true },
    );
    return r !== null;
  }

  private async sweepClosedHalls(now: Date): Promise<number> {
    if (!this.deps.halls) return 0;
    let raised = 0;
    for (const w of await this.repo.closedHalls(500)) {
      const hall = await this.deps.halls.getHall(w.hallCode).catch(() => null);
      if (hall?.status !== 'closed' || hall.openNow !== true) continue;
      // an admin who resolved the alert during this closure has dealt with it
      const resolved = await this.repo.lastResolvedAt(this.db, hallDownKey(w.hallCode));
      if (resolved && resolved >= w.since) continue;
      await this.repo.raise(
        this.db,
        hallDownRow(w.hallCode, w.divisionCode, 'closed', w.reason, now, hall.name),
        {
          suppressIfResolved: false,
        },
      );
      raised++;
    }
    return raised;
  }

  /** Province, prefectures and counties (reference data, loaded once per process). */
  private async sweepPlaces(): Promise<{ code: string; name: string }[]> {
    if (this.places) return this.places;
    if (!this.deps.regions) return [];
    const out: { code: string; name: string }[] = [];
    for (const level of ['province', 'prefecture', 'county'] as const) {
      let after: string | undefined;
      for (;;) {
        const page = await this.deps.regions.listDivisions({
          level,
          limit: 500,
          ...(after ? { after } : {}),
        });
        out.push(...page.map((d) => ({ code: d.code, name: d.name })));
        if (page.length < 500) break;
        after = page.at(-1)!.code;
      }
    }
    this.places = out;
    return out;
  }

  /**
   * Raises an alert directly (de-duplicated by rule + place + period like the rules' own raises) — for the
   * simulation and tests that need an alert at a known place. @returns the alert and whether it is new.
   */
  async raise(input: {
    rule: AlertRule;
    severity: 'warning' | 'critical';
    divisionCode: string;
    hallCode?: string | null;
    departmentId?: string | null;
    period: string;
    title: string;
    details?: Record<string, unknown>;
  }): Promise<{ alert: AlertView; created: boolean }> {
    const place = input.hallCode
      ? `hall:${input.hallCode}`
      : input.departmentId
        ? `department:${input.departmentId}`
        : `division:${input.divisionCode}`;
    const r = await this.repo.raise(
      this.db,
      {
        rule: input.rule,
        severity: input.severity,
        dedupeKey: `${input.rule}|${place}|${input.period}`,
        place,
        period: input.period,
        divisionCode: input.divisionCode,
        hallCode: input.hallCode ?? null,
        departmentId: input.departmentId ?? null,
        title: input.title,
        details: input.details ?? {},
        at: this.clock(),
      },
      { suppressIfResolved: false },
    );
    return { alert: present(r!.row), created: r!.created };
  }

  /**
   * Alerts the caller may see: a staff member's grants in force with `dashboard.read` whose scope covers
   * the alert's division (subtree), hall or department. Filters: `status` (open | acknowledged | resolved |
   * active = not resolved; default all), `rule`, `division` (a GB/T 2260 code: that subtree). Active first,
   * critical first, latest raised first; at most `limit` (1–200, default 50) with the total.
   * @throws 401; 403 `alert.role_missing` without dashboard.read anywhere; 403 `alert.scope_missing` when
   *   `division` lies outside every scope of the caller; 400 naming `status`, `rule` or `division`.
   */
  async list(
    principal: Principal | null,
    filter: { status?: string; rule?: string; division?: string; limit?: number },
  ): Promise<{ items: AlertView[]; total: number }> {
    const p = requirePrincipal(principal);
    const now = this.clock();
    const grants = p.grants.filter((g) => grantInForce(g, now) && roleAllows(g.role, 'dashboard.read'));
    if (grants.length === 0)
      throw forbidden(
        'alert.role_missing',
        'Alerts are shown to administrators, duty officers and leaders (dashboard.read) of their own scope.',
      );
    if (
      filter.status !== undefined &&
      filter.status !== 'active' &&
      !(ALERT_STATUSES as readonly string[]).includes(filter.status)
    )
      throw invalid(
        'status',
        `status must be one of active, ${ALERT_STATUSES.join(', ')}.`,
        'alert.bad_filter',
      );
    if (filter.rule !== undefined && !(ALERT_RULES as readonly string[]).includes(filter.rule))
      throw invalid('rule', `rule must be one of ${ALERT_RULES.join(', ')}.`, 'alert.bad_filter');
    if (filter.division !== undefined) {
      if (!isDivisionCode(filter.division))
        throw invalid(
          'division',
          'division must be a GB/T 2260 division code, e.g. 522601.',
          'alert.bad_filter',
        );
      const related = grants.some((g) => {
        const d = g.scope.kind === 'division' ? g.scope.code : g.scope.divisionCode;
        return isAncestorOrSelf(d, filter.division!) || isAncestorOrSelf(filter.division!, d);
      });
      if (!related)
        throw forbidden('alert.scope_missing', `The division ${filter.division} lies outside your scope.`);
    }
    const within = {
      divisionPrefixes: [] as string[],
      hallCodes: [] as string[],
      departmentIds: [] as string[],
    };
    for (const g of grants) {
      if (g.scope.kind === 'division') within.divisionPrefixes.push(g.scope.code);
      else if (g.scope.kind === 'hall') within.hallCodes.push(g.scope.code);
      else within.departmentIds.push(g.scope.id);
    }
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
    const { rows, total } = await this.repo.list({
      within,
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.rule ? { rule: filter.rule } : {}),
      ...(filter.division ? { divisionPrefix: filter.division } : {}),
      limit,
    });
    return { items: rows.map(present), total };
  }

  /**
   * The rules with their names and thresholds (GET /api/v1/alerts/rules).
   * @throws 401; 403 `alert.role_missing` without dashboard.read anywhere.
   */
  rules(principal: Principal | null): {
    rules: { id: AlertRule; name: string }[];
    thresholds: WarningThresholds;
  } {
    const p = requirePrincipal(principal);
    const now = this.clock();
    if (!p.grants.some((g) => grantInForce(g, now) && roleAllows(g.role, 'dashboard.read')))
      throw forbidden(
        'alert.role_missing',
        'The warning rules are shown to those who see alerts (dashboard.read).',
      );
    return {
      rules: ALERT_RULES.map((id) => ({ id, name: ALERT_RULE_NAMES[id] })),
      thresholds: this.thresholds,
    };
  }

  /**
   * 签收: records who acknowledged an alert, when, and an optional note (≤ 500 characters). Idempotent by
   * `idempotencyKey` (a replay returns the first answer). Audited (`alert.acknowledge`).
   * @throws 401; 404 `alert.not_found` for an alert the caller may not see (as if it did not exist);
   *   403 `alert.role_missing` without alert.manage over it (leaders read only); 400 naming `note`;
   *   409 `alert.already_acknowledged` / `alert.already_resolved`.
   */
  async acknowledge(
    principal: Principal | null,
    id: string,
    input: { note?: string | undefined },
    idempotencyKey: string,
  ): Promise<AlertView> {
    const p = requirePrincipal(principal);
    await this.authorizeAction(p, id);
    const note = input.note?.trim() || null;
    if (note && note.length > 500)
      throw invalid('note', 'Keep the note to 500 characters.', 'alert.bad_note');
    const { value } = await this.deps.idempotency.run(
      `POST /api/v1/alerts/:id/acknowledge|${p.accountId}|${id}`,
      idempotencyKey,
      { note },
      async (tx) => {
        const row = (await this.repo.lock(tx, id))!;
        if (row.status === 'resolved')
          throw conflict(
            'alert.already_resolved',
            `The alert was resolved at ${row.resolvedAt?.toISOString()}.`,
          );
        if (row.status === 'acknowledged')
          throw conflict(
            'alert.already_acknowledged',
            `The alert was acknowledged at ${row.acknowledgedAt?.toISOString()}; resolve it when dealt with.`,
          );
        const updated = await this.repo.acknowledge(tx, id, p.accountId, this.clock(), note);
        await this.audited(tx, p, 'alert.acknowledge', updated, note);
        return present(updated);
      },
    );
    return value;
  }

  /**
   * 处置完毕: resolves an alert (open or acknowledged) with the resolution (2–500 characters: what was done).
   * Idempotent by `idempotencyKey`. Audited (`alert.resolve`). The same rule firing again later opens a
   * new alert. @throws as {@link acknowledge}; 400 naming `resolution`; 409 `alert.already_resolved`.
   */
  async resolve(
    principal: Principal | null,
    id: string,
    input: { resolution: string },
    idempotencyKey: string,
  ): Promise<AlertView> {
    const p = requirePrincipal(principal);
    await this.authorizeAction(p, id);
    const resolution = input.resolution?.trim() ?? '';
    if (resolution.length < 2 || resolution.length > 500)
      throw invalid(
        'resolution',
        'Say what was done about the alert (2–500 characters); it is kept with the alert.',
        'alert.bad_resolution',
      );
    const { value } = await this.deps.idempotency.run(
      `POST /api/v1/alerts/:id/resolve|${p.accountId}|${id}`,
      idempotencyKey,
      { resolution },
      async (tx) => {
        const row = (await this.repo.lock(tx, id))!;
        if (row.status === 'resolved')
          throw conflict(
            'alert.already_resolved',
            `The alert was resolved at ${row.resolvedAt?.toISOString()}.`,
          );
        const updated = await this.repo.resolve(tx, id, p.accountId, this.clock(), resolution);
        await this.audited(tx, p, 'alert.resolve', updated, resolution);
        return present(updated);
      },
    );
    return value;
  }

  /** 404 for an alert not seen (dashboard.read over it), 403 without alert.manage over it. */
  private async authorizeAction(p: Principal, id: string): Promise<AlertRow> {
    const row = UUID.test(id) ? await this.repo.get(this.db, id) : null;
    const now = this.clock();
    if (!row || !anyGrantAllows(p.grants, 'dashboard.read', targetOf(row), now))
      throw notFound('alert.not_found', 'No such alert among those of your scope; reload the list.');
    if (!anyGrantAllows(p.grants, 'alert.manage', targetOf(row), now))
      throw new AppError(
        'forbidden',
        'alert.role_missing',
        'Acknowledging and resolving alerts is for the administrators and duty officers of its place (alert.manage).',
      );
    return row;
  }

  private async audited(
    tx: Tx,
    p: Principal,
    action: string,
    row: AlertRow,
    purpose: string | null,
  ): Promise<void> {
    await this.deps.audit?.append(tx, {
      actor: { kind: p.kind, id: p.accountId },
      action,
      target: { type: 'alert', id: row.id },
      ...(purpose ? { purpose } : {}),
      details: { rule: row.rule, divisionCode: row.divisionCode, hallCode: row.hallCode, status: row.status },
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function hallDownKey(hallCode: string): string {
  return `hall_down|hall:${hallCode}|ongoing`;
}

function hallDownRow(
  hallCode: string,
  divisionCode: string,
  status: string,
  reason: string | null,
  at: Date,
  hallName?: string,
): RaiseRow {
  return {
    rule: 'hall_down',
    severity: status === 'degraded' ? 'warning' : 'critical',
    dedupeKey: hallDownKey(hallCode),
    place: `hall:${hallCode}`,
    period: 'ongoing',
    divisionCode,
    hallCode,
    departmentId: null,
    title: `${hallName ?? `大厅 ${hallCode}`} ${HALL_STATUS_NAMES[status] ?? status}${reason ? `：${reason.slice(0, 80)}` : ''}`,
    details: { status, ...(reason ? { reason: reason.slice(0, 500) } : {}), since: at.toISOString() },
    at,
  };
}

/**
 * The division of a hall from its code (`<division>-zwfw`, `<township>-bmfw`, `<village>-fwz`), or
 * `fallback` (the intake county) when the code does not start with one.
 */
export function divisionOfHallCode(hallCode: string, fallback: string): string {
  const head = hallCode.split('-')[0] ?? '';
  return isDivisionCode(head) ? head : fallback;
}

/** Where an alert lies, for grantAllows: its division, its hall, its department. */
function targetOf(row: Pick<AlertRow, 'divisionCode' | 'hallCode' | 'departmentId'>): ScopeTarget {
  return {
    divisionCodes: [row.divisionCode],
    hallCodes: row.hallCode ? [row.hallCode] : [],
    departmentIds: row.departmentId ? [row.departmentId] : [],
  };
}

function present(r: AlertRow): AlertView {
  return {
    id: r.id,
    rule: r.rule as AlertRule,
    severity: r.severity,
    divisionCode: r.divisionCode,
    hallCode: r.hallCode,
    departmentId: r.departmentId,
    place: r.place,
    period: r.period,
    title: r.title,
    details: r.details,
    status: r.status,
    firstRaisedAt: r.firstRaisedAt.toISOString(),
    lastRaisedAt: r.lastRaisedAt.toISOString(),
    occurrences: r.occurrences,
    acknowledgedAt: r.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: r.acknowledgedBy,
    acknowledgeNote: r.acknowledgeNote,
    resolvedAt: r.resolvedAt?.toISOString() ?? null,
    resolvedBy: r.resolvedBy,
    resolution: r.resolution,
  };
}

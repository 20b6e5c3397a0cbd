import distance from '@turf/distance';
import { type CalendarDay, todayInShanghai } from '../../../domain/calendar.ts';
import { INDUSTRIES } from '../../../domain/catalog.ts';
import { ancestorCodesOf } from '../../../domain/division-code.ts';
import { type FieldIssue, invalid, invalidMany, notFound } from '../../../domain/errors.ts';
import {
  isOpenAt,
  type OpeningHours,
  OpeningHoursSchema,
  openingHoursIssues,
  shanghaiMinuteOfDay,
} from '../../../domain/opening-hours.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { Principal } from '../identity/principal.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { Division } from '../regions/service.ts';
import { CountyLocator } from './locations.ts';
import { authorizeHallManagement } from './policy.ts';
import { type HallLevel, type HallRow, HallsRepository, type NewHallRow } from './repository.ts';

/**
 * A hall (政务服务中心 / 便民服务中心 / 服务站): where applications are received.
 * `latitude`/`longitude` in degrees; `locationApproximate` is true for sample locations.
 * `capabilities`: e.g. `remote_video` (远程视频, county level and up), `self_service_terminal`, `ems_mail`,
 * `agent_service` (代办). `status`: open / closed / degraded / offline.
 */
export type Hall = Omit<HallRow, 'statusExpectedEndAt' | 'statusChangedAt'> & {
  /** ISO 8601: when the current status is expected to end; null when open or unknown. */
  statusExpectedEndAt: string | null;
  /** ISO 8601: when the status was last changed by an administrator; null if never. */
  statusChangedAt: string | null;
  /** Open right now by its hours and the working-day calendar (Asia/Shanghai); null when unknown. */
  openNow: boolean | null;
};

/** Service status of a hall: 开放 / 关闭 / 降级 / 离线. */
export const HALL_STATUSES = ['open', 'closed', 'degraded', 'offline'] as const;
export type HallStatus = (typeof HALL_STATUSES)[number];

/** 窗口: one service window of a hall. `itemCodes` / `industries` null = serves everything (综合窗口). */
export interface HallWindow {
  number: number;
  name: string;
  itemCodes: string[] | null;
  industries: string[] | null;
}

/** The part of the calendar service halls need: what kind of day a date is. */
export interface DayLookup {
  day(date: string): Promise<CalendarDay>;
}

/** A hall with its great-circle distance from the query point, in kilometres. */
export type HallWithDistance = Hall & { distanceKm: number };

export const HALL_LEVELS: readonly HallLevel[] = ['province', 'prefecture', 'county', 'township', 'village'];

const WEEKDAYS: OpeningHours = {
  weekdays: ['09:00-12:00', '13:00-17:00'],
  note: '法定节假日休息，调休上班日正常办公',
};
const CENTER_WINDOWS = { province: 120, prefecture: 60, county: 30 } as const;
const CENTER_HOURS: OpeningHours = {
  weekdays: ['09:00-12:00', '13:00-17:00'],
  saturday: ['09:00-12:00'],
  note: '周六上午延时服务；法定节假日休息，调休上班日正常办公',
};

/**
 * Builds the sample hall network for the given divisions: the provincial hall (in 观山湖区, 520115, where
 * Guizhou's provincial government service centre stands), one hall per prefecture (in its first district)
 * and per county, a 便民服务中心 per township and a 服务站 per village. Hall codes: `<division code>-zwfw`
 * (政务服务中心), `-bmfw` (便民服务中心), `-fwz` (服务站).
 */
export function buildSampleHalls(divisions: Division[], locator = new CountyLocator()): NewHallRow[] {
  const firstCountyOf = new Map<string, string>();
  for (const d of divisions) {
    if (d.level === 'county' && d.parentCode && !firstCountyOf.has(d.parentCode) && locator.has(d.code)) {
      firstCountyOf.set(d.parentCode, d.code);
    }
  }
  // Full address from the division names: 贵州省贵阳市南明区新华路街道纪念塔社区.
  const nameOf = new Map(divisions.map((d) => [d.code, d.name]));
  const addressOf = (code: string) =>
    [...ancestorCodesOf(code), code].map((c) => nameOf.get(c) ?? '').join('');
  const centerCapabilities = ['remote_video', 'self_service_terminal', 'ems_mail', 'e_licence'];
  const rows: NewHallRow[] = [];
  for (const d of divisions) {
    const common = {
      divisionCode: d.code,
      countyCode: d.countyCode,
      locationApproximate: true,
      status: 'open' as const,
      sample: true,
      level: d.level,
      address: addressOf(d.code),
    };
    // 政务服务中心 at province, prefecture and county level: located at a county seat.
    const seat =
      d.level === 'province'
        ? locator.has('520115')
          ? '520115'
          : [...firstCountyOf.values()][0]
        : d.level === 'prefecture'
          ? firstCountyOf.get(d.code)
          : d.level === 'county' && locator.has(d.code)
            ? d.code
            : undefined;
    if (seat !== undefined) {
      rows.push({
        ...common,
        code: `${d.code}-zwfw`,
        name: `${d.name}政务服务中心`,
        kind: 'government_service_center',
        ...locator.seatOf(seat),
        ...(d.level === 'province' ? { address: `${d.name}贵阳市观山湖区（示例位置）` } : {}),
        windows: CENTER_WINDOWS[d.level as 'province' | 'prefecture' | 'county'],
        openingHours: CENTER_HOURS,
        capabilities: d.level === 'province' ? [...centerCapabilities, 'cross_province'] : centerCapabilities,
      });
      continue;
    }
    // 便民服务中心 (township) and 服务站 (village): a stable point inside the county.
    if ((d.level === 'township' || d.level === 'village') && d.countyCode && locator.has(d.countyCode)) {
      const township = d.level === 'township';
      rows.push({
        ...common,
        code: `${d.code}-${township ? 'bmfw' : 'fwz'}`,
        name: `${d.name}${township ? '便民服务中心' : '便民服务站'}`,
        kind: township ? 'convenience_service_center' : 'service_station',
        ...locator.pointIn(d.countyCode, d.code),
        windows: township ? 4 : 1,
        openingHours: WEEKDAYS,
        capabilities: township ? ['agent_service', 'self_service_terminal'] : ['agent_service'],
      });
    }
  }
  return rows;
}

/**
 * The halls module's public face: halls of a division and nearest halls to a point.
 */
export class HallsService {
  private readonly repo: HallsRepository;
  private readonly calendar: DayLookup;
  private readonly clock: () => Date;
  private readonly db: Db;
  private readonly audit: AuditService | undefined;
  private readonly outbox: Pick<OutboxService, 'append'> | undefined;
  constructor(
    db: Db,
    deps: {
      calendar: DayLookup;
      clock?: () => Date;
      audit?: AuditService;
      /** `hall.status_changed` events (KPIs: halls open in hours; warnings: a hall down or degraded). */
      outbox?: Pick<OutboxService, 'append'>;
    },
  ) {
    this.db = db;
    this.repo = new HallsRepository(db);
    this.calendar = deps.calendar;
    this.clock = deps.clock ?? (() => new Date());
    this.audit = deps.audit;
    this.outbox = deps.outbox;
  }

  /** Adds `openNow` (by opening hours on today's calendar day, Asia/Shanghai) to hall rows. */
  private async present(rows: HallRow[]): Promise<Hall[]> {
    const now = this.clock();
    const day = await this.calendar.day(todayInShanghai(now));
    const minute = shanghaiMinuteOfDay(now);
    return rows.map((h) => ({
      ...h,
      statusExpectedEndAt: h.statusExpectedEndAt?.toISOString() ?? null,
      statusChangedAt: h.statusChangedAt?.toISOString() ?? null,
      openNow:
        h.status === 'closed' || h.status === 'offline' ? false : isOpenAt(h.openingHours, day, minute),
    }));
  }

  /** Creates the sample hall network for `divisions` inside `tx` (idempotent). Returns the hall count. */
  async seed(tx: Tx, divisions: Division[]): Promise<number> {
    const rows = buildSampleHalls(divisions);
    await this.repo.insertMany(rows, tx);
    return rows.length;
  }

  /** Which of `codes` are halls. */
  async existingCodes(codes: string[]): Promise<Set<string>> {
    return new Set(await this.repo.existingCodes(codes));
  }

  /** @throws AppError(not_found, `hall.not_found`). */
  async getHall(code: string): Promise<Hall> {
    const row = await this.repo.findByCode(code);
    if (!row)
      throw notFound(
        'hall.not_found',
        `No hall with code ${code}. Hall codes look like 520102-zwfw.`,
        'code',
      );
    return (await this.present([row]))[0]!;
  }

  /**
   * Halls located in the division (its whole subtree), ordered by code; keyset pagination by `after`.
   * The division's existence is checked by the caller (regions service).
   */
  async listHallsOfDivision(
    divisionCode: string,
    options: { level?: HallLevel; limit?: number; after?: string } = {},
  ): Promise<Hall[]> {
    const rows = await this.repo.listInDivision({
      divisionPrefix: divisionCode,
      limit: options.limit ?? 100,
      ...(options.level ? { level: options.level } : {}),
      ...(options.after ? { after: options.after } : {}),
    });
    return this.present(rows);
  }

  /**
   * The `limit` halls nearest to (`latitude`, `longitude`) in degrees, nearest first, each with its
   * great-circle distance in km. `levels` restricts the hall levels (e.g. county and up).
   * @throws AppError(validation) for a point outside −90..90 / −180..180.
   */
  async nearestHalls(p: {
    latitude: number;
    longitude: number;
    limit?: number;
    levels?: HallLevel[];
  }): Promise<HallWithDistance[]> {
    if (!(Math.abs(p.latitude) <= 90))
      throw invalid('near', `latitude ${p.latitude} is outside −90..90.`, 'hall.bad_point');
    if (!(Math.abs(p.longitude) <= 180))
      throw invalid('near', `longitude ${p.longitude} is outside −180..180.`, 'hall.bad_point');
    const rows = await this.repo.nearest({
      latitude: p.latitude,
      longitude: p.longitude,
      limit: p.limit ?? 10,
      ...(p.levels ? { levels: p.levels } : {}),
    });
    return (await this.present(rows))
      .map((h) => ({
        ...h,
        distanceKm:
          Math.round(
            distance([p.longitude, p.latitude], [h.longitude, h.latitude], { units: 'kilometers' }) * 100,
          ) / 100,
      }))
      .sort((a, b) => a.distanceKm - b.distanceKm);
  }

  countByLevel(): Promise<Record<HallLevel, number>> {
    return this.repo.countByLevel();
  }

  // ================================================================================ administration

  /** The windows (窗口) of a hall, by number (public). @throws 404 `hall.not_found`. */
  async listWindows(code: string): Promise<HallWindow[]> {
    await this.getHall(code);
    return (await this.repo.windowsOf(code)).map(windowView);
  }

  /**
   * Replaces the windows of a hall (窗口: number 1–999 unique, name, the items — 12-digit basic codes — and/or
   * the industries 所属行业 it serves; both absent = 综合窗口) and sets its window count; one transaction with
   * the audit entry (`hall.windows_update`, before/after). Only an administrator of the hall
   * ({@link authorizeHallManagement}).
   * @throws 400 `hall.invalid_windows` listing every bad field (`windows.2.number` …); 401; 403
   *   `hall.out_of_scope`; 404 `hall.not_found`.
   */
  async setWindows(
    principal: Principal | null,
    code: string,
    windows: HallWindow[],
    reason?: string,
  ): Promise<HallWindow[]> {
    const hall = await this.getHall(code);
    const p = authorizeHallManagement(principal, hall, this.clock());
    const issues = windowIssues(windows);
    if (issues.length > 0)
      throw invalidMany(
        'hall.invalid_windows',
        'The windows are invalid; nothing was changed. Correct the listed fields.',
        issues,
      );
    const before = (await this.repo.windowsOf(code)).map(windowView);
    const after = [...windows]
      .sort((a, b) => a.number - b.number)
      .map((w) => ({
        number: w.number,
        name: w.name.trim(),
        itemCodes: w.itemCodes && w.itemCodes.length > 0 ? [...new Set(w.itemCodes)].sort() : null,
        industries: w.industries && w.industries.length > 0 ? [...new Set(w.industries)].sort() : null,
      }));
    const now = this.clock();
    await this.db.transaction(async (tx) => {
      await this.repo.lockHall(tx, code);
      await this.repo.replaceWindows(
        tx,
        code,
        after.map((w) => ({ hallCode: code, ...w, updatedAt: now })),
      );
      await this.audited(tx, p, 'hall.windows_update', hall, { before, after }, reason);
    });
    return after;
  }

  /**
   * Sets a hall's opening hours (Asia/Shanghai; see src/domain/opening-hours.ts). One transaction with the
   * audit entry (`hall.hours_update`, before/after).
   * @throws 400 `hall.invalid_hours` (ranges malformed, reversed or overlapping); 401; 403; 404.
   */
  async setOpeningHours(
    principal: Principal | null,
    code: string,
    hours: OpeningHours,
    reason?: string,
  ): Promise<Hall> {
    const hall = await this.getHall(code);
    const p = authorizeHallManagement(principal, hall, this.clock());
    const parsed = OpeningHoursSchema.safeParse(hours);
    const issues: FieldIssue[] = parsed.success
      ? openingHoursIssues(parsed.data)
      : parsed.error.issues.map((i) => ({
          field: ['openingHours', ...i.path].join('.'),
          message: i.message,
        }));
    if (issues.length > 0 || !parsed.success)
      throw invalidMany(
        'hall.invalid_hours',
        'The opening hours are invalid; nothing was changed. Use HH:MM-HH:MM ranges that do not overlap.',
        issues,
      );
    const row = await this.db.transaction(async (tx) => {
      await this.repo.lockHall(tx, code);
      const updated = await this.repo.updateHall(tx, code, { openingHours: parsed.data });
      await this.audited(
        tx,
        p,
        'hall.hours_update',
        hall,
        { before: hall.openingHours, after: parsed.data },
        reason,
      );
      return updated!;
    });
    return (await this.present([row]))[0]!;
  }

  /**
   * Sets a hall's service status: `open`, or `closed` / `degraded` / `offline` with a `reason` (2–500
   * characters: shown to residents and to the staff routing cases) and optionally the `expectedEndAt`
   * (ISO 8601, in the future). Back to `open` clears both. One transaction with the audit entry
   * (`hall.status_change`, before/after). Residents see it on GET /api/v1/halls/{code}.
   * @throws 400 `hall.invalid_status` naming `status`, `reason` or `expectedEndAt`; 401; 403; 404.
   */
  async setStatus(
    principal: Principal | null,
    code: string,
    input: { status: string; reason?: string | undefined; expectedEndAt?: Date | undefined },
  ): Promise<Hall> {
    const hall = await this.getHall(code);
    const now = this.clock();
    const p = authorizeHallManagement(principal, hall, now);
    if (!(HALL_STATUSES as readonly string[]).includes(input.status))
      throw invalid('status', `Use one of ${HALL_STATUSES.join(', ')}.`, 'hall.invalid_status');
    const status = input.status as HallStatus;
    const reason = input.reason?.trim() ?? '';
    if (status !== 'open' && (reason.length < 2 || reason.length > 500))
      throw invalid(
        'reason',
        `Say why the hall is ${status} (2–500 characters); residents and staff see it.`,
        'hall.invalid_status',
      );
    if (input.expectedEndAt !== undefined) {
      if (status === 'open')
        throw invalid(
          'expectedEndAt',
          'An open hall has no expected end; leave expectedEndAt out.',
          'hall.invalid_status',
        );
      if (Number.isNaN(input.expectedEndAt.getTime()) || input.expectedEndAt <= now)
        throw invalid(
          'expectedEndAt',
          'expectedEndAt must be an instant in the future (ISO 8601).',
          'hall.invalid_status',
        );
    }
    const set = {
      status,
      statusReason: status === 'open' ? reason || null : reason,
      statusExpectedEndAt: status === 'open' ? null : (input.expectedEndAt ?? null),
      statusChangedAt: now,
    };
    const row = await this.db.transaction(async (tx) => {
      await this.repo.lockHall(tx, code);
      const updated = await this.repo.updateHall(tx, code, set);
      await this.audited(
        tx,
        p,
        'hall.status_change',
        hall,
        {
          before: { status: hall.status, reason: hall.statusReason, expectedEndAt: hall.statusExpectedEndAt },
          after: {
            status,
            reason: set.statusReason,
            expectedEndAt: set.statusExpectedEndAt?.toISOString() ?? null,
          },
        },
        reason || undefined,
      );
      // Same transaction: the KPI rollups and the warning rules hear of it iff it committed.
      await this.outbox?.append(tx, [
        {
          topic: 'hall.status_changed',
          aggregateType: 'hall',
          aggregateId: code,
          payload: {
            hallCode: code,
            divisionCode: hall.divisionCode,
            countyCode: hall.countyCode ?? null,
            from: hall.status,
            to: status,
            at: now.toISOString(),
            ...(set.statusReason ? { reason: set.statusReason } : {}),
          },
        },
      ]);
      return updated!;
    });
    return (await this.present([row]))[0]!;
  }

  private async audited(
    tx: Tx,
    p: Principal,
    action: string,
    hall: Hall,
    change: { before: unknown; after: unknown },
    reason: string | undefined,
  ): Promise<void> {
    await this.audit?.append(tx, {
      actor: { kind: p.kind, id: p.accountId },
      action,
      target: { type: 'hall', id: hall.code },
      ...(reason ? { purpose: reason } : {}),
      details: { divisionCode: hall.divisionCode, hallCode: hall.code, ...change },
    });
  }
}

function windowView(r: {
  number: number;
  name: string;
  itemCodes: string[] | null;
  industries: string[] | null;
}): HallWindow {
  return { number: r.number, name: r.name, itemCodes: r.itemCodes, industries: r.industries };
}

/** Every problem of a window list (numbers 1–999 unique, names 1–50, 12-digit item codes, known industries). */
function windowIssues(windows: HallWindow[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (windows.length > 500) issues.push({ field: 'windows', message: 'at most 500 windows per hall' });
  const seen = new Set<number>();
  windows.forEach((w, i) => {
    if (!Number.isInteger(w.number) || w.number < 1 || w.number > 999)
      issues.push({ field: `windows.${i}.number`, message: 'a window number is a whole number 1–999' });
    else if (seen.has(w.number))
      issues.push({
        field: `windows.${i}.number`,
        message: `window ${w.number} appears twice; number each window once`,
      });
    seen.add(w.number);
    const name = String(w.name ?? '').trim();
    if (name.length < 1 || name.length > 50)
      issues.push({
        field: `windows.${i}.name`,
        message: 'a window name has 1–50 characters, e.g. 社保综合窗口',
      });
    (w.itemCodes ?? []).forEach((c, j) => {
      if (!/^\d{12}$/.test(c))
        issues.push({
          field: `windows.${i}.itemCodes.${j}`,
          message: `"${c}" is not a 12-digit basic item code`,
        });
    });
    (w.industries ?? []).forEach((c, j) => {
      if (!Object.hasOwn(INDUSTRIES, c))
        issues.push({
          field: `windows.${i}.industries.${j}`,
          message: `"${c}" is not an industry identifier; see GET /api/v1/catalog/industries`,
        });
    });
  });
  return issues;
}

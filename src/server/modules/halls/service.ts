import distance from '@turf/distance';
import { type CalendarDay, todayInShanghai } from '../../../domain/calendar.ts';
import { ancestorCodesOf } from '../../../domain/division-code.ts';
import { invalid, notFound } from '../../../domain/errors.ts';
import { isOpenAt, type OpeningHours, shanghaiMinuteOfDay } from '../../../domain/opening-hours.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { Division } from '../regions/service.ts';
import { CountyLocator } from './locations.ts';
import { type HallLevel, type HallRow, HallsRepository, type NewHallRow } from './repository.ts';

/**
 * A hall (政务服务中心 / 便民服务中心 / 服务站): where applications are received.
 * `latitude`/`longitude` in degrees; `locationApproximate` is true for sample locations.
 * `capabilities`: e.g. `remote_video` (远程视频, county level and up), `self_service_terminal`, `ems_mail`,
 * `agent_service` (代办). `status`: open / closed / degraded / offline.
 */
export type Hall = HallRow & {
  /** Open right now by its hours and the working-day calendar (Asia/Shanghai); null when unknown. */
  openNow: boolean | null;
};

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
  constructor(db: Db, deps: { calendar: DayLookup; clock?: () => Date }) {
    this.repo = new HallsRepository(db);
    this.calendar = deps.calendar;
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Adds `openNow` (by opening hours on today's calendar day, Asia/Shanghai) to hall rows. */
  private async present(rows: HallRow[]): Promise<Hall[]> {
    const now = this.clock();
    const day = await this.calendar.day(todayInShanghai(now));
    const minute = shanghaiMinuteOfDay(now);
    return rows.map((h) => ({
      ...h,
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
}

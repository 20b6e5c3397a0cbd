/**
 * `tongban simulate`: a living demo province. Generates province-wide demand for N days with the model of
 * ./model.ts and drives every application through the REAL service layer — `CasesService.submit`,
 * `.command` and `.handOver`, `HallsService.setStatus`, `EvaluationsService.submit`, the identity module
 * (residents, village agents, their authorizations and consent) — with a movable clock that walks each
 * simulated day through office hours, running the jobs loop (`runOnce`) every simulated hour so the outbox
 * feeds the KPI rollups, the warnings and the notifications as it would in production. Nothing is inserted
 * behind the services' backs. The model and its sources: docs/simulation.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CalendarDay, WorkingDayCalendar } from '../../domain/calendar.ts';
import { addCalendarDays, todayInShanghai } from '../../domain/calendar.ts';
import type { CaseActor, CaseCommandInput, CaseStatus } from '../../domain/case-state.ts';
import type { ServiceItem } from '../../domain/catalog.ts';
import { makeCreditCode } from '../../domain/credit-code.ts';
import { isAppError } from '../../domain/errors.ts';
import type { EvaluationChannel } from '../../domain/evaluation.ts';
import { isBadReview } from '../../domain/evaluation.ts';
import type { FormField } from '../../domain/form.ts';
import { seededRandom } from '../../domain/random.ts';
import { type JobRunner, startJobs } from '../jobs/runner.ts';
import type { CaseMutation } from '../modules/cases/service.ts';
import type { Principal } from '../modules/identity/principal.ts';
import type { DevSmsChannel } from '../modules/notifications/channels.ts';
import type { Services } from '../services.ts';
import {
  type CasePlan,
  type ChannelFamily,
  type CountyProfile,
  channelMix,
  countyProfiles,
  drawPlan,
  expectedArrivals,
  itemWeights,
  migrantShare,
  mobileShare,
  officeMinute,
  onlineMinute,
  phoneFor,
  pickWeighted,
  poisson,
  REST_DAY_ONLINE_FACTOR,
  type Rng,
  sampleAge,
  sampleName,
  syntheticIdNumber,
} from './model.ts';

/** The instant the services see; the simulation moves it forward (never back). */
export interface MovableClock {
  now(): Date;
  set(at: Date): void;
}

/** A clock starting at `start` that only the simulation moves. */
export function movableClock(start: Date = new Date()): MovableClock {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    set: (at) => {
      t = Math.max(t, at.getTime());
    },
  };
}

/**
 * The jobs loop of a simulation: timers, outbox dispatch (KPI rollups, warnings, notifications), messages,
 * the audit chain and the periodic warning rules — as `tongban serve` runs them. Documents (PDF 文书) are
 * queued by their outbox handler but rendered later by `tongban serve` (rendering thousands of PDFs is not
 * what a demo province needs to wait for), and no PII re-sealing runs (nothing is old).
 */
export function simulationJobs(
  services: Pick<Services, 'cases' | 'outbox' | 'notifications' | 'audit' | 'warnings'>,
): JobRunner {
  return startJobs(
    {
      cases: services.cases,
      outbox: services.outbox,
      notifications: services.notifications,
      audit: services.audit,
      warnings: services.warnings,
    },
    { intervalMs: 0 },
  );
}

/** What a run is asked to do. */
export interface SimulationOptions {
  /** Simulated days (≥ 1). */
  days: number;
  /** Volume multiplier: 1 ≈ 150 cases per working day province-wide. */
  scale: number;
  /** Seed of the pseudo-random demand: the same seed gives the same demand and the same summary. */
  seed: string;
  /** First simulated day (YYYY-MM-DD, Asia/Shanghai); default: the `days` days ending yesterday. */
  start?: string;
  /** Called after each simulated day. */
  onDay?: (p: { day: number; days: number; date: string; cases: number }) => void;
}

/** What a run did (deterministic for a seed: no timings, ids or case numbers). */
export interface SimulationSummary {
  seed: string;
  scale: number;
  from: string;
  to: string;
  days: number;
  cases: {
    filed: number;
    byStatus: Partial<Record<CaseStatus, number>>;
    byChannel: Record<string, number>;
    byMode: Record<string, number>;
    /** Filed by a village agent for a resident (帮办代办). */
    byAgent: number;
    legalPersons: number;
    /** Received in a county other than the deciding one (异地代收代办). */
    crossCounty: number;
    supplementNotices: number;
    secondSupplements: number;
    /** Decisions planned after the promised limit. */
    lateDecisions: number;
  };
  ratings: { given: number; bad: number; skipped: number; refused: number };
  outage: { hallCode: string; day: string } | null;
  /**
   * The county that pushes its older residents online (被网办) over the last 7 simulated days (runs of
   * 14 days or more): the offline share of 65+ falls there, which the KPIs and the warnings must show.
   */
  pushedOnline: { countyCode: string; from: string } | null;
  /** Alerts raised or updated by the warning rules during the run. */
  alerts: number;
  /** Steps the services refused, by error code (a defect of the model when not empty). */
  errors: Record<string, number>;
}

/** One scheduled step of a case. */
interface Step {
  at: number;
  seq: number;
  run: () => Promise<void>;
}

interface Person {
  kind: 'natural_person' | 'legal_person';
  name: string;
  idNumber?: string;
  creditCode?: string;
  phone?: string;
  age: number;
  homeCounty: CountyProfile;
  currentCounty: CountyProfile;
}

interface SimCase {
  number: string;
  version: number;
  status: CaseStatus;
  item: ServiceItem;
  plan: CasePlan;
  family: ChannelFamily;
  channel: string;
  mode: string;
  intakeHall: string | null;
  competentDepartmentId: string;
  delivery: 'pickup' | 'mail' | 'e_licence';
  pickupHall: string | null;
  applicantActor: CaseActor | null;
  agent: { actor: CaseActor; principal: Principal } | null;
  /** The applicant-side account whose inbox gets the messages (online applicant, or the agent's client). */
  inboxAccountId: string | null;
  supplementsDone: number;
}

const MINUTE = 60_000;
const DAY_MS = 86_400_000;

/** Instant of `minute` minutes after midnight of `date` in Asia/Shanghai. */
function instantOf(date: string, minute: number): number {
  return Date.parse(`${date}T00:00:00+08:00`) + minute * MINUTE;
}

/** Minute of the Shanghai day of an instant. */
function minuteOf(at: number): number {
  return Math.floor(((at + 8 * 3_600_000) % DAY_MS) / MINUTE);
}

/**
 * Refuses what must not be simulated on: production, and a database holding cases no simulation run filed
 * (unless `force`). @throws Error with the reason and what to do.
 */
export async function assertMaySimulate(
  services: Pick<Services, 'cases' | 'simulation'>,
  options: { force?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const env = options.env ?? process.env;
  if (env.NODE_ENV === 'production')
    throw new Error(
      'tongban simulate fills the database with demo cases, residents and staff: refused with NODE_ENV=production.',
    );
  if (options.force) return;
  // a case created outside every run's simulated days was not filed by a simulation (an interrupted run's
  // cases lie inside its days even though it never recorded how many it filed)
  const real = await services.cases.countCases({ outside: await services.simulation.windows() });
  if (real > 0)
    throw new Error(
      `The database holds ${real} case(s) that no simulation filed: simulating would mix demo data into them. Use an empty database (DATA_DIR / DATABASE_URL), or pass --force.`,
    );
}

/**
 * Runs the simulation (see the module comment). The services must have been built with `clock.now` as
 * their clock (createServices `clock`), the reference data and catalog seeded, and `jobs` made from the
 * same services. @returns the summary.
 */
export async function runSimulation(
  deps: { services: Services; jobs: JobRunner; clock: MovableClock },
  options: SimulationOptions,
): Promise<SimulationSummary> {
  const sim = new Simulation(deps.services, deps.jobs, deps.clock, options);
  return sim.run();
}

class Simulation {
  private readonly s: Services;
  private readonly jobs: JobRunner;
  private readonly clock: MovableClock;
  private readonly o: SimulationOptions;
  private readonly rng: Rng;
  private readonly from: string;
  private calendar!: WorkingDayCalendar;
  private counties: CountyProfile[] = [];
  private urbanCounties: CountyProfile[] = [];
  private items: ServiceItem[] = [];
  private readonly staff = new Map<string, string>();
  private readonly agents: { actor: CaseActor; principal: Principal; county: CountyProfile }[] = [];
  private readonly clients = new Map<string, { person: Person; accountId: string; ref: string }[]>();
  private readonly usedIds = new Set<string>();
  private queue: Step[] = [];
  private seq = 0;
  private runId = '';
  private ipCounter = 0;
  private readonly cases: SimCase[] = [];
  private readonly summary: SimulationSummary;
  private outage: { hallCode: string; day: string; down: number; up: number } | null = null;
  private pushed: { countyCode: string; from: string } | null = null;

  constructor(services: Services, jobs: JobRunner, clock: MovableClock, options: SimulationOptions) {
    if (!Number.isInteger(options.days) || options.days < 1)
      throw new Error('--days must be a whole number ≥ 1.');
    if (!(options.scale > 0)) throw new Error('--scale must be a number > 0.');
    this.s = services;
    this.jobs = jobs;
    this.clock = clock;
    this.o = options;
    this.rng = seededRandom(`tongban-simulate:${options.seed}`);
    this.from = options.start ?? addCalendarDays(todayInShanghai(new Date()), -options.days);
    this.summary = {
      seed: options.seed,
      scale: options.scale,
      from: this.from,
      to: addCalendarDays(this.from, options.days - 1),
      days: options.days,
      cases: {
        filed: 0,
        byStatus: {},
        byChannel: {},
        byMode: {},
        byAgent: 0,
        legalPersons: 0,
        crossCounty: 0,
        supplementNotices: 0,
        secondSupplements: 0,
        lateDecisions: 0,
      },
      ratings: { given: 0, bad: 0, skipped: 0, refused: 0 },
      outage: null,
      pushedOnline: null,
      alerts: 0,
      errors: {},
    };
  }

  async run(): Promise<SimulationSummary> {
    this.clock.set(new Date(instantOf(this.from, 7 * 60)));
    await this.prepare();
    this.runId = await this.s.simulation.startRun({
      seed: this.o.seed,
      startDay: this.from,
      days: this.o.days,
      scale: this.o.scale,
    });
    for (let d = 0; d < this.o.days; d++) {
      const date = addCalendarDays(this.from, d);
      await this.simulateDay(date);
      await this.s.simulation.progress(this.runId, this.summary.cases.filed);
      this.o.onDay?.({ day: d + 1, days: this.o.days, date, cases: this.summary.cases.filed });
    }
    // let the last events reach the rollups, warnings and messages
    await this.drainJobs();
    await this.s.simulation.progress(this.runId, this.summary.cases.filed, this.clock.now());
    const byStatus: Partial<Record<CaseStatus, number>> = {};
    for (const c of this.cases) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
    this.summary.cases.byStatus = Object.fromEntries(Object.entries(byStatus).sort());
    this.summary.cases.byChannel = Object.fromEntries(Object.entries(this.summary.cases.byChannel).sort());
    this.summary.cases.byMode = Object.fromEntries(Object.entries(this.summary.cases.byMode).sort());
    this.summary.errors = Object.fromEntries(Object.entries(this.summary.errors).sort());
    return this.summary;
  }

  // ------------------------------------------------------------------------------------------ set-up

  private async prepare(): Promise<void> {
    this.calendar = await this.s.calendar.calendar();
    const [counties, townships, villages] = await Promise.all(
      (['county', 'township', 'village'] as const).map((level) =>
        this.s.regions.listDivisions({ level, limit: 20_000 }),
      ),
    );
    this.counties = countyProfiles([...counties!, ...townships!, ...villages!]);
    this.urbanCounties = this.counties.filter((c) => c.ruralShare < 0.3);
    const catalog = await this.s.catalog.exportCatalog();
    this.items = (catalog.items as ServiceItem[]).filter((i) => modesOf(i).length > 0);
    // the hall outage: one county centre, on a working day after the first, 10:00–14:30
    const days = Array.from({ length: this.o.days }, (_, d) => addCalendarDays(this.from, d));
    const working = days.filter((d, i) => i > 0 && this.day(d).working);
    const outageDay = working.length > 0 ? working[Math.floor(this.rng() * working.length)]! : null;
    const outageCounty =
      this.counties[
        pickWeighted(
          this.rng,
          this.counties.map((c) => c.population),
        )
      ]!;
    if (this.o.days >= 14) {
      const rural = this.counties.filter((c) => c.ruralShare > 0.5);
      const county =
        rural[
          pickWeighted(
            this.rng,
            rural.map((c) => c.population),
          )
        ];
      if (county)
        this.pushed = { countyCode: county.code, from: addCalendarDays(this.from, this.o.days - 7) };
      this.summary.pushedOnline = this.pushed;
    }
    if (outageDay) {
      this.outage = {
        hallCode: `${outageCounty.code}-zwfw`,
        day: outageDay,
        down: instantOf(outageDay, 10 * 60),
        up: instantOf(outageDay, 14 * 60 + 30),
      };
      this.summary.outage = { hallCode: this.outage.hallCode, day: outageDay };
    }
  }

  private day(date: string): CalendarDay {
    return this.calendar.isWorkingDay(date);
  }

  /** A staff account of the simulation bound to a hall or department (created once; it never signs in). */
  private async staffId(bind: { hallCode: string } | { departmentId: string }): Promise<string> {
    const key = 'hallCode' in bind ? `sim.w.${bind.hallCode}` : `sim.d.${bind.departmentId}`;
    const known = this.staff.get(key);
    if (known) return known;
    const id =
      (await this.s.identity.staffIdByUsername(key)) ??
      (
        await this.s.identity.createStaff(
          {
            name: 'hallCode' in bind ? '模拟窗口人员' : '模拟审批人员',
            username: key,
            password: simPassword(),
            ...bind,
          },
          { actor: { kind: 'system', id: 'simulate' }, reason: 'tongban simulate' },
        )
      ).id;
    this.staff.set(key, id);
    return id;
  }

  private async intakeActor(hallCode: string): Promise<CaseActor> {
    return { kind: 'staff', id: await this.staffId({ hallCode }), hallCode };
  }

  private async departmentActor(departmentId: string): Promise<CaseActor> {
    return { kind: 'staff', id: await this.staffId({ departmentId }), departmentId };
  }

  /**
   * The village agent serving a resident of `county`: the county's agents are recruited as residents
   * first ask for one (one per county per unit of scale), each at a village 服务站 of the county.
   */
  private async agentOf(
    county: CountyProfile,
    draw: number,
  ): Promise<{ actor: CaseActor; principal: Principal; county: CountyProfile }> {
    const slots = Math.max(1, Math.round(this.o.scale));
    const local = this.agents.filter((g) => g.county.code === county.code);
    if (local.length < slots) {
      const village = county.villages[draw % county.villages.length]!;
      await this.addAgent(county, `${village}-fwz`, local.length);
      return this.agents[this.agents.length - 1]!;
    }
    return local[draw % local.length]!;
  }

  /** A village agent: a staff account of a village 服务站 with the `village_agent` grant, signed in. */
  private async addAgent(county: CountyProfile, hallCode: string, i: number): Promise<void> {
    const known = await this.s.halls.existingCodes([hallCode]);
    const hall = known.has(hallCode) ? hallCode : `${county.code}-zwfw`;
    const username = `sim.agent.${county.code}.${i}`;
    const password = simPassword();
    let id = await this.s.identity.staffIdByUsername(username);
    if (!id) {
      id = (
        await this.s.identity.createStaff(
          { name: `${sampleName(seededRandom(username))}（代办员）`, username, password, hallCode: hall },
          { actor: { kind: 'system', id: 'simulate' }, reason: 'tongban simulate' },
        )
      ).id;
    } else await this.s.identity.resetStaffCredentials(id, { password, totp: false });
    await this.s.identity.grants.grantFromCli(
      {
        accountId: id,
        role: 'village_agent',
        scope: { kind: 'hall', value: hall },
        itemCodes: null,
        validUntil: new Date(this.clock.now().getTime() + 365 * DAY_MS),
        reason: '模拟代办员（tongban simulate）',
      },
      'simulate',
    );
    const session = await this.s.identity.loginWithPassword({ username, password }, this.nextIp());
    this.agents.push({
      actor: { kind: 'agent', id, hallCode: hall },
      principal: session.principal,
      county,
    });
  }

  private nextIp(): string {
    this.ipCounter++;
    return `10.${200 + ((this.ipCounter >> 16) % 50)}.${(this.ipCounter >> 8) & 255}.${this.ipCounter & 255}`;
  }

  // ------------------------------------------------------------------------------------------ a day

  private async simulateDay(date: string): Promise<void> {
    const day = this.day(date);
    const month = Number(date.slice(5, 7));
    const weights = itemWeights(this.items, month);
    const arrivals: { at: number; county: CountyProfile }[] = [];
    for (const county of this.counties) {
      const mean = expectedArrivals(county, month, this.o.scale) * (day.working ? 1 : REST_DAY_ONLINE_FACTOR);
      const n = poisson(this.rng, mean);
      for (let k = 0; k < n; k++) arrivals.push({ at: 0, county });
    }
    for (const a of arrivals) {
      const seq = ++this.seq;
      const draw = seededRandom(`${this.o.seed}:${date}:${seq}`);
      this.schedule(instantOf(date, 0), async () => this.arrive(a.county, weights, draw, day, date), seq);
    }
    // the outage of the day
    if (this.outage?.day === date) {
      const o = this.outage;
      this.schedule(o.down, () => this.setHall(o.hallCode, 'offline', '网络中断，正在抢修（模拟）'));
      this.schedule(o.up, () => this.setHall(o.hallCode, 'open', '恢复服务'));
    }
    const end = instantOf(date, 24 * 60) - 1;
    let hour = -1;
    while (this.queue.length > 0 && this.queue[0]!.at <= end) {
      const step = this.queue.shift()!;
      const h = Math.floor(step.at / 3_600_000);
      if (h !== hour && hour !== -1) {
        this.clock.set(new Date(h * 3_600_000));
        await this.runJobs();
      }
      hour = h;
      this.clock.set(new Date(step.at));
      await step.run();
    }
    this.clock.set(new Date(end));
    await this.runJobs();
  }

  /** Adds a step at `at` (kept sorted by time, then by scheduling order). */
  private schedule(at: number, run: () => Promise<void>, seq = ++this.seq): void {
    const step = { at, seq, run };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.at < at || (q.at === at && q.seq < seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, step);
  }

  private async runJobs(): Promise<void> {
    const round = await this.jobs.runOnce();
    this.summary.alerts += round.alertsRaised;
  }

  private async drainJobs(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const round = await this.jobs.runOnce();
      this.summary.alerts += round.alertsRaised;
      if (round.eventsDispatched === 0 && round.timersFired === 0) break;
    }
  }

  private async setHall(hallCode: string, status: 'offline' | 'open', reason: string): Promise<void> {
    try {
      const principal = await this.hallAdmin(hallCode);
      await this.s.halls.setStatus(principal, hallCode, { status, reason });
    } catch (e) {
      this.fail(e);
    }
  }

  private hallAdminPrincipal: Principal | null = null;
  /** The hall's administrator (大厅管理员) of the simulation, signed in. */
  private async hallAdmin(hallCode: string): Promise<Principal> {
    if (this.hallAdminPrincipal) return this.hallAdminPrincipal;
    const username = `sim.admin.${hallCode}`;
    const password = simPassword();
    let id = await this.s.identity.staffIdByUsername(username);
    if (!id)
      id = (
        await this.s.identity.createStaff(
          { name: '模拟大厅管理员', username, password, hallCode },
          { actor: { kind: 'system', id: 'simulate' }, reason: 'tongban simulate' },
        )
      ).id;
    else await this.s.identity.resetStaffCredentials(id, { password, totp: false });
    await this.s.identity.grants.grantFromCli(
      {
        accountId: id,
        role: 'hall_admin',
        scope: { kind: 'hall', value: hallCode },
        itemCodes: null,
        validUntil: new Date(this.clock.now().getTime() + 30 * DAY_MS),
        reason: '模拟大厅停机（tongban simulate）',
      },
      'simulate',
    );
    const session = await this.s.identity.loginWithPassword({ username, password }, this.nextIp());
    this.hallAdminPrincipal = session.principal;
    return session.principal;
  }

  // ------------------------------------------------------------------------------------------ a case

  /** One application: who, what, where and how — then its submission at its minute of the day. */
  private async arrive(
    county: CountyProfile,
    weights: number[],
    rng: Rng,
    day: CalendarDay,
    date: string,
  ): Promise<void> {
    const item = this.items[pickWeighted(rng, weights)]!;
    const natural = item.serviceObjects.includes('natural_person');
    const legal = !natural || (item.serviceObjects.length > 1 && rng() < 0.2);
    const age = legal ? 0 : sampleAge(rng);
    const migrant = !legal && this.urbanCounties.length > 0 && rng() < migrantShare(county.ruralShare);
    const current = migrant
      ? this.urbanCounties[
          pickWeighted(
            rng,
            this.urbanCounties.map((c) => c.population),
          )
        ]!
      : county;
    const plan = drawPlan(rng);
    // a legal person files at a window (online filing needs a legal-person account: not modelled)
    const pushed = !!this.pushed && this.pushed.countyCode === current.code && date >= this.pushed.from;
    const mix = legal ? { online: 0, hall: 1, agent: 0 } : channelMix(age, current.ruralShare, pushed);
    let family: ChannelFamily = (['online', 'hall', 'agent'] as const)[
      pickWeighted(rng, [mix.online, mix.hall, mix.agent])
    ]!;
    const modes = modesOf(item);
    if (family === 'online' && !modes.includes('online')) family = 'hall';
    if (family !== 'online' && !modes.some((m) => m !== 'online')) {
      if (legal) return;
      family = 'online';
    }
    if (family === 'agent' && (migrant || current.villages.length === 0)) family = 'hall';
    // halls are closed on rest days: only online applications arrive then (the rest-day volume is lowered)
    if (!day.working && family !== 'online') return;
    const minute = family === 'online' ? onlineMinute(rng) : officeMinute(rng);
    let at = instantOf(date, minute);
    const township = current.townships[Math.floor(rng() * current.townships.length)];
    const hall = family === 'hall' && township && rng() < 0.2 ? `${township}-bmfw` : `${current.code}-zwfw`;
    if (this.outage && hall === this.outage.hallCode && at >= this.outage.down && at < this.outage.up)
      at = this.outage.up + Math.floor(rng() * 120) * MINUTE; // waited for the hall to come back
    const seqPerson = Math.floor(rng() * 1000);
    const birthYear = Number(date.slice(0, 4)) - age - (rng() < 0.5 ? 1 : 0);
    const birth = `${birthYear}-${String(1 + Math.floor(rng() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rng() * 28)).padStart(2, '0')}`;
    const name = sampleName(rng);
    const person: Person = legal
      ? {
          kind: 'legal_person',
          name: `${current.name}${name.slice(0, 1)}氏商贸有限公司`,
          creditCode: makeCreditCode({
            registrationAuthority: '9',
            organisationType: '1',
            divisionCode: county.code,
            serial: Math.floor(rng() * 99_999_999),
          }),
          age: 0,
          homeCounty: county,
          currentCounty: current,
        }
      : { kind: 'natural_person', name, age, homeCounty: county, currentCounty: current };
    if (!legal) {
      person.idNumber = this.freshIdNumber(county.code, birth, seqPerson);
      person.phone = phoneFor(person.idNumber);
    }
    const agentIndex = Math.floor(rng() * 1_000_000);
    const reuseClient = rng() < 0.5;
    const deliveryDraw = rng();
    const mobile = rng() < mobileShare(age);
    const formDraw = Math.floor(rng() * 1_000_000);
    this.schedule(at, () =>
      this.submit({
        item,
        person,
        plan,
        family,
        hall,
        mobile,
        deliveryDraw,
        agentIndex,
        reuseClient,
        formDraw,
      }),
    );
  }

  private freshIdNumber(area: string, birth: string, seq: number): string {
    for (let k = 0; k < 1000; k++) {
      const id = syntheticIdNumber(area, birth, (seq + k) % 1000);
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
    }
    return syntheticIdNumber(area, birth, seq);
  }

  private async submit(a: {
    item: ServiceItem;
    person: Person;
    plan: CasePlan;
    family: ChannelFamily;
    hall: string;
    mobile: boolean;
    deliveryDraw: number;
    agentIndex: number;
    reuseClient: boolean;
    formDraw: number;
  }): Promise<void> {
    const { item, person, plan, family } = a;
    const modes = modesOf(item);
    const mode =
      family === 'online'
        ? 'online'
        : modes.includes('off_site_intake')
          ? 'off_site_intake'
          : modes.includes('any_hall')
            ? 'any_hall'
            : 'online';
    const deciding =
      item.decidingBasis === 'household_registration' ? person.homeCounty.code : person.currentCounty.code;
    const options = item.deliveryOptions as ('pickup' | 'mail' | 'e_licence')[];
    const delivery: 'pickup' | 'mail' | 'e_licence' =
      options.includes('e_licence') && a.deliveryDraw < 0.7
        ? 'e_licence'
        : options.includes('pickup') && (a.deliveryDraw < 0.85 || !options.includes('mail'))
          ? 'pickup'
          : options.includes('mail')
            ? 'mail'
            : options[0]!;
    let agent: SimCase['agent'] = null;
    let intakeHall: string | null = family === 'online' ? null : a.hall;
    let applicantActor: CaseActor | null = null;
    let agentField: Record<string, unknown> | undefined;
    let inboxAccountId: string | null = null;
    try {
      if (family === 'agent') {
        const chosen = await this.agentOf(person.currentCounty, a.agentIndex);
        const client = await this.client(chosen, person, a.reuseClient, a.agentIndex);
        agent = { actor: chosen.actor, principal: chosen.principal };
        intakeHall = chosen.actor.hallCode!;
        inboxAccountId = client.accountId;
        agentField = {
          kind: 'village_agent',
          name: chosen.principal.name ?? '代办员',
          authorizationRef: client.ref,
        };
        Object.assign(person, client.person);
      } else if (family === 'online' && person.kind === 'natural_person') {
        applicantActor = { kind: 'applicant', id: await this.resident(person) };
      }
    } catch (e) {
      this.fail(e);
      return;
    }
    const pickupHall = delivery === 'pickup' ? (intakeHall ?? `${person.currentCounty.code}-zwfw`) : null;
    const applicant =
      person.kind === 'legal_person'
        ? { kind: 'legal_person' as const, name: person.name, creditCode: person.creditCode! }
        : {
            kind: 'natural_person' as const,
            name: person.name,
            idNumber: person.idNumber!,
            phone: person.phone!,
          };
    const channel =
      family === 'online'
        ? a.mobile
          ? 'mobile'
          : 'pc'
        : family === 'agent'
          ? 'village_agent'
          : 'hall_window';
    const body = {
      itemCode: item.code,
      applicant,
      ...(agentField ? { agent: agentField } : {}),
      channel,
      ...(intakeHall ? { intakeHallCode: intakeHall } : {}),
      processingMode: mode,
      decidingDivisionCode: deciding,
      formData: formDataFor(item.formFields ?? [], person, a.formDraw),
      delivery:
        delivery === 'pickup'
          ? { method: 'pickup', hallCode: pickupHall }
          : delivery === 'mail'
            ? {
                method: 'mail',
                recipient: person.name.slice(0, 20),
                phone: person.phone ?? '13800000000',
                address: `${person.currentCounty.name}人民路${1 + (a.formDraw % 200)}号（模拟地址）`,
              }
            : { method: 'e_licence' },
    };
    const actor: CaseActor = agent?.actor ?? applicantActor ?? (await this.intakeActor(intakeHall!));
    let result: CaseMutation;
    try {
      result = await this.s.cases.submit(body, {
        actor,
        idempotencyKey: randomUUID(),
        ...(agent ? { principal: agent.principal } : {}),
      });
    } catch (e) {
      this.fail(e);
      return;
    }
    const v = result.case;
    const c: SimCase = {
      number: v.number,
      version: v.version,
      status: v.status,
      item,
      plan,
      family,
      channel,
      mode,
      intakeHall,
      competentDepartmentId: v.competentDepartmentId!,
      delivery,
      pickupHall,
      applicantActor: applicantActor ?? (actor.kind === 'applicant' ? actor : null),
      agent,
      inboxAccountId: inboxAccountId ?? applicantActor?.id ?? null,
      supplementsDone: 0,
    };
    this.cases.push(c);
    const sum = this.summary.cases;
    sum.filed++;
    sum.byChannel[channel] = (sum.byChannel[channel] ?? 0) + 1;
    sum.byMode[mode] = (sum.byMode[mode] ?? 0) + 1;
    if (agent) sum.byAgent++;
    if (person.kind === 'legal_person') sum.legalPersons++;
    if (intakeHall && !intakeHall.startsWith(deciding)) sum.crossCounty++;
    if (plan.late) sum.lateDecisions++;
    await this.afterSubmit(c);
  }

  /** An online applicant's resident account (实名 registration; a second run with the same seed re-draws the number). */
  private async resident(person: Person): Promise<string> {
    for (let k = 0; k < 20; k++) {
      try {
        const account = await this.s.identity.registerResident({
          name: person.name,
          idNumber: person.idNumber!,
          phone: person.phone!,
        });
        return account.id;
      } catch (e) {
        if (!(isAppError(e) && e.code === 'account.already_registered')) throw e;
        this.redraw(person);
      }
    }
    throw new Error('no free synthetic ID number');
  }

  private redraw(person: Person): void {
    const id = person.idNumber!;
    person.idNumber = this.freshIdNumber(
      id.slice(0, 6),
      `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`,
      Number(id.slice(14, 17)) + 1,
    );
    person.phone = phoneFor(person.idNumber);
  }

  /**
   * The agent's client: a resident of the agent's village who signed up by SMS code (the development SMS
   * adapter holds the code) and consented in the app to the agent's authorization (委托, in_app evidence),
   * covering every item for a year. Half the time an earlier client of the agent comes again.
   */
  private async client(
    agent: { actor: CaseActor; principal: Principal; county: CountyProfile },
    person: Person,
    reuse: boolean,
    pick: number,
  ): Promise<{ accountId: string; ref: string; person: Partial<Person> }> {
    const pool = this.clients.get(agent.actor.id) ?? [];
    this.clients.set(agent.actor.id, pool);
    const known = reuse && pool.length > 0 ? pool[pick % pool.length]! : null;
    if (known)
      return {
        accountId: known.accountId,
        ref: known.ref,
        person: {
          name: known.person.name,
          idNumber: known.person.idNumber!,
          phone: known.person.phone!,
          age: known.person.age,
        },
      };
    const { accountId, principal } = await this.signUp(person);
    const authz = await this.s.identity.authorizations.create(agent.principal, {
      resident: { accountId },
      itemCodes: null,
      validUntil: new Date(this.clock.now().getTime() + 300 * DAY_MS),
      evidence: { kind: 'in_app' },
    });
    // the resident, signed in on her own phone, consents in the app
    await this.s.identity.authorizations.consent(principal, authz.id);
    pool.push({ person: { ...person }, accountId, ref: authz.id });
    return {
      accountId,
      ref: authz.id,
      person: { name: person.name, idNumber: person.idNumber!, phone: person.phone!, age: person.age },
    };
  }

  private sms(): DevSmsChannel {
    const sms = this.s.notifications.channel('sms') as DevSmsChannel;
    if (!Array.isArray((sms as { sent?: unknown }).sent))
      throw new Error('tongban simulate needs the development SMS adapter (unset SMS_GATEWAY_URL).');
    return sms;
  }

  /** The latest code the development SMS adapter recorded for `phone` (null: none in this process). */
  private lastCode(phone: string): string | null {
    const text = [...this.sms().sent].reverse().find((m) => m.to === phone)?.text ?? '';
    return /(\d{6})/.exec(text)?.[1] ?? null;
  }

  /** The public sign-up path: an SMS code for registration, then registration with it. */
  private async signUp(person: Person): Promise<{ accountId: string; principal: Principal }> {
    for (let k = 0; k < 20; k++) {
      const ip = this.nextIp();
      this.clock.set(new Date(this.clock.now().getTime() + 1000));
      // the development adapter keeps the latest 1,000 texts: compare the newest one, not the count
      const before = this.sms().sent.at(-1);
      try {
        await this.s.identity.requestSmsCode(person.phone!, ip, 'register');
      } catch (e) {
        // an earlier run over the same days asked a code for this phone a moment ago: another person
        if (!(isAppError(e) && e.code === 'auth.otp_rate_limited')) throw e;
        this.redraw(person);
        continue;
      }
      // nothing sent: the phone has an account already (an earlier run) — draw another person
      if (this.sms().sent.at(-1) === before) {
        this.redraw(person);
        continue;
      }
      try {
        const { account, session } = await this.s.identity.registerResidentWithCode(
          {
            name: person.name,
            idNumber: person.idNumber!,
            phone: person.phone!,
            code: this.lastCode(person.phone!)!,
          },
          ip,
        );
        return { accountId: account.id, principal: session.principal };
      } catch (e) {
        if (!(isAppError(e) && (e.code === 'account.already_registered' || e.code === 'auth.otp_invalid')))
          throw e;
        this.redraw(person);
      }
    }
    throw new Error('no free synthetic ID number');
  }

  // ------------------------------------------------------------------------------------------ steps

  private fail(e: unknown): void {
    const code = isAppError(e) ? e.code : ((e as Error)?.message ?? String(e)).slice(0, 80);
    this.summary.errors[code] = (this.summary.errors[code] ?? 0) + 1;
  }

  /** A step at a working-day offset and office minute (never before now). */
  private later(c: SimCase, workingDays: number, fn: (c: SimCase) => Promise<void>, rng = this.rng): void {
    const now = this.clock.now().getTime();
    const today = todayInShanghai(new Date(now));
    let date = this.day(today).working ? today : this.calendar.addWorkingDays(today, 1).date;
    if (workingDays > 0) date = this.calendar.addWorkingDays(date, workingDays).date;
    let at = instantOf(date, officeMinute(rng));
    if (at <= now) {
      at = now + (10 + Math.floor(rng() * 80)) * MINUTE;
      if (minuteOf(at) > 17 * 60 + 30 || date !== today)
        at = instantOf(this.calendar.addWorkingDays(today, 1).date, officeMinute(rng));
    }
    this.schedule(at, () => fn(c));
  }

  /** A step of the applicant side (any day, 8:00–22:00) `days` calendar days later. */
  private applicantLater(c: SimCase, days: number, fn: (c: SimCase) => Promise<void>): void {
    if (c.family !== 'online') {
      this.later(c, Math.max(1, days), fn);
      return;
    }
    const now = this.clock.now().getTime();
    const at = instantOf(
      addCalendarDays(todayInShanghai(new Date(now)), days),
      8 * 60 + Math.floor(this.rng() * 14 * 60),
    );
    this.schedule(Math.max(at, now + 30 * MINUTE), () => fn(c));
  }

  private async command(
    c: SimCase,
    actor: CaseActor,
    command: CaseCommandInput,
    extra: { visit?: boolean; principal?: Principal } = {},
  ): Promise<boolean> {
    try {
      const r = await this.s.cases.command(c.number, command, {
        actor,
        idempotencyKey: randomUUID(),
        expectedVersion: c.version,
        ...extra,
      });
      c.version = r.case.version;
      c.status = r.case.status;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private async afterSubmit(c: SimCase): Promise<void> {
    if (c.status === 'submitted') {
      // online: the competent department receives it on the next working day at the latest
      this.later(c, 0, (x) => this.receiveOnline(x));
      return;
    }
    this.nextAfterReceipt(c);
  }

  private async receiveOnline(c: SimCase): Promise<void> {
    if (await this.command(c, await this.departmentActor(c.competentDepartmentId), { type: 'receive' }))
      this.nextAfterReceipt(c);
  }

  private nextAfterReceipt(c: SimCase): void {
    if (c.intakeHall && c.mode !== 'online' && c.supplementsDone === 0 && c.status === 'received') {
      this.schedule(this.clock.now().getTime() + (10 + Math.floor(this.rng() * 110)) * MINUTE, () =>
        this.forward(c),
      );
      return;
    }
    this.later(c, 1 + Math.floor(this.rng() * 2), (x) => this.examine(x));
  }

  private async forward(c: SimCase): Promise<void> {
    if (await this.command(c, await this.intakeActor(c.intakeHall!), { type: 'forward' }))
      this.later(c, 1 + Math.floor(this.rng() * 2), (x) => this.examine(x));
  }

  /** The competent department examines the materials: a supplement notice, a refusal or acceptance. */
  private async examine(c: SimCase): Promise<void> {
    const officer = await this.departmentActor(c.competentDepartmentId);
    if (c.supplementsDone < c.plan.supplements) {
      const material =
        c.item.materials[c.supplementsDone % Math.max(1, c.item.materials.length)]?.name ?? '申请材料';
      const second = c.supplementsDone >= 1;
      const ok = await this.command(c, officer, {
        type: 'request_supplement',
        gaps: [
          {
            material,
            reason: second ? '补正后的材料仍缺少签字页（模拟）' : '复印件不清晰，请提交清晰的复印件（模拟）',
          },
        ],
        ...(second ? { secondNoticeReason: '补正材料与原件不一致，需再次补正（模拟）' } : {}),
      });
      if (!ok) return;
      c.supplementsDone++;
      this.summary.cases.supplementNotices++;
      if (second) this.summary.cases.secondSupplements++;
      this.applicantLater(c, 1 + Math.floor(this.rng() * 4), (x) => this.resubmit(x));
      return;
    }
    if (c.plan.withdrawn) {
      await this.applicantCommand(c, { type: 'withdraw', reason: '申请人主动撤回（模拟）' });
      return;
    }
    if (c.plan.notAccepted) {
      await this.command(c, officer, { type: 'not_accept', reason: '申请事项不属于本机关职权范围（模拟）' });
      return;
    }
    if (!(await this.command(c, officer, { type: 'accept' }))) return;
    this.later(c, 0, async (x) => {
      if (await this.command(x, officer, { type: 'start_review', step: '审查' })) this.scheduleDecision(x);
    });
  }

  private async applicantCommand(c: SimCase, command: CaseCommandInput): Promise<boolean> {
    if (c.agent) return this.command(c, c.agent.actor, command, { principal: c.agent.principal });
    if (c.applicantActor) return this.command(c, c.applicantActor, command);
    // a walk-in (or a legal person at the window) acts at the intake window
    const hall = c.intakeHall ?? c.pickupHall;
    if (!hall) return this.command(c, await this.departmentActor(c.competentDepartmentId), command);
    return this.command(c, await this.intakeActor(hall), command, { visit: true });
  }

  private async resubmit(c: SimCase): Promise<void> {
    if (await this.applicantCommand(c, { type: 'resubmit' }))
      this.later(c, 1 + Math.floor(this.rng() * 2), (x) => this.examine(x));
  }

  /** The promised limit in working days (calendar days × 5/7). */
  private promisedWorkingDays(item: ServiceItem): number {
    const l = item.promisedTimeLimit ?? item.legalTimeLimit;
    if (!l) return 10;
    return l.unit === 'working_days' ? l.value : Math.max(1, Math.round((l.value * 5) / 7));
  }

  private scheduleDecision(c: SimCase): void {
    const limit = this.promisedWorkingDays(c.item);
    const days = c.plan.late ? limit + c.plan.lateBy : Math.max(0, Math.round(limit * c.plan.speed) - 1);
    this.later(c, days, (x) => this.decide(x));
  }

  private async decide(c: SimCase): Promise<void> {
    const officer = await this.departmentActor(c.competentDepartmentId);
    const ok = await this.command(
      c,
      officer,
      c.plan.denied
        ? { type: 'decide', outcome: 'denied', reason: '经审查不符合法定条件（模拟）' }
        : { type: 'decide', outcome: 'granted' },
    );
    if (!ok) return;
    if (c.delivery === 'e_licence')
      this.schedule(this.clock.now().getTime() + (5 + Math.floor(this.rng() * 25)) * MINUTE, async () => {
        if (
          await this.command(c, officer, {
            type: 'deliver',
            method: 'e_licence',
            reference: `电子证照-${c.number}`,
          })
        )
          this.scheduleRating(c);
      });
    else if (c.delivery === 'mail')
      this.later(c, 1, async (x) => {
        if (
          await this.command(x, officer, {
            type: 'deliver',
            method: 'mail',
            reference: `SF${x.number.slice(-10)}`,
          })
        )
          this.scheduleRating(x);
      });
    else this.later(c, 1 + Math.floor(this.rng() * 5), (x) => this.pickUp(x));
  }

  /** 就近取件: the applicant shows the pickup code from the decision message at the pickup hall's desk. */
  private async pickUp(c: SimCase): Promise<void> {
    try {
      const view = await this.s.cases.get(c.number);
      // the decision message of THIS case (a returning client's inbox holds her other cases too)
      const codeIn = (items: { caseNumber: string | null; body: string }[]) =>
        items
          .filter((m) => m.caseNumber === c.number)
          .map((m) => /(?:取件码|pickup code)\D*(\d{6})/.exec(m.body)?.[1])
          .find((x) => x !== undefined);
      let code: string | undefined;
      for (const id of [c.inboxAccountId, `case:${view.id}`]) {
        if (!id || code) continue;
        code = codeIn((await this.s.notifications.inboxOf({ kind: 'applicant', id }, { limit: 50 })).items);
      }
      if (!code) throw new Error('no pickup code in the applicant inbox');
      const r = await this.s.cases.handOver(c.number, code, {
        actor: await this.intakeActor(c.pickupHall!),
        idempotencyKey: randomUUID(),
        expectedVersion: c.version,
      });
      c.version = r.case.version;
      c.status = r.case.status;
      this.scheduleRating(c);
    } catch (e) {
      this.fail(e);
    }
  }

  private scheduleRating(c: SimCase): void {
    if (!c.plan.rates) return;
    const now = this.clock.now().getTime();
    const at = now + (30 + Math.floor(this.rng() * 60 * 36)) * MINUTE;
    this.schedule(at, () => this.rate(c));
  }

  /** 好差评 through the rating link of the notification (token, no sign-in). */
  private async rate(c: SimCase): Promise<void> {
    // Without signing in, the rating link's token is the way in: the link in the delivery SMS for those who
    // applied from a phone, a computer or through an agent, the QR code on the paper notice for walk-ins
    // (the evaluations service takes a token on these two channels only).
    const channel: EvaluationChannel = c.channel === 'hall_window' ? 'qr_code' : 'sms';
    try {
      const evaluations = this.s.evaluations;
      await evaluations.submit(
        {
          caseNumber: c.number,
          channel,
          level: c.plan.level,
          ...(isBadReview(c.plan.level) ? { comment: '等候时间长，材料要求没有一次说清楚（模拟）' } : {}),
          token: evaluations.ratingToken(c.number),
        },
        { principal: null, idempotencyKey: randomUUID() },
      );
      this.summary.ratings.given++;
      if (isBadReview(c.plan.level)) this.summary.ratings.bad++;
      const after = await this.s.cases.get(c.number);
      c.status = after.status;
      c.version = after.version;
    } catch (e) {
      if (e instanceof Error && /not implemented/.test(e.message)) this.summary.ratings.skipped++;
      else {
        this.summary.ratings.refused++;
        this.fail(e);
      }
    }
  }
}

/** The processing modes the simulation uses for an item (多地联办 is decided by parts: left out). */
function modesOf(item: ServiceItem): string[] {
  return item.processingModes.filter((m) => m !== 'multi_site_joint');
}

function simPassword(): string {
  return `Sim-${randomBytes(9).toString('base64url')}-7a`;
}

/** Form data that satisfies an item's form (required, visible fields; plausible values). */
export function formDataFor(
  fields: readonly FormField[],
  person: { idNumber?: string; phone?: string; currentCounty: { code: string } },
  draw: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const day = (n: number) => addCalendarDays('2020-01-01', n % 1500);
  for (const f of fields) {
    if (f.visibleWhen && out[f.visibleWhen.key] !== f.visibleWhen.equals) continue;
    if (!f.required && f.type !== 'select' && f.type !== 'boolean') continue;
    const first = f.options?.[draw % f.options.length]?.value;
    switch (f.type) {
      case 'text':
      case 'textarea':
        out[f.key] =
          f.pattern === '[A-Z][0-9]{9}' ? `Q${String(100_000_000 + (draw % 899_999_999))}` : '模拟填写内容';
        break;
      case 'select':
        if (first !== undefined) out[f.key] = first;
        break;
      case 'multiselect':
        if (first !== undefined) out[f.key] = [first];
        break;
      case 'boolean':
        out[f.key] = draw % 2 === 0;
        break;
      case 'date':
        out[f.key] = day(draw);
        break;
      case 'integer':
      case 'number':
        out[f.key] = Math.max(f.min ?? 1, 1);
        break;
      case 'amount_yuan':
        out[f.key] = Math.min(f.max ?? 50_000, 50_000);
        break;
      case 'phone':
        out[f.key] = person.phone ?? '13800000000';
        break;
      case 'id_number':
        if (person.idNumber) out[f.key] = person.idNumber;
        break;
      case 'division':
        out[f.key] = person.currentCounty.code;
        break;
      case 'bank_account':
        out[f.key] = '6222020200001234567';
        break;
      case 'credit_code':
        break;
    }
  }
  return out;
}

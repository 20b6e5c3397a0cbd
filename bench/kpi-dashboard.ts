/**
 * Benchmark: a division KPI dashboard over 10,000,000 cases (issue 7, "Tests and benchmarks").
 *
 * One throwaway PostgreSQL database (`tongban_bench_<pid>`, dropped at the end, also on failure): migrated
 * and seeded by `startServer` (divisions, 19,500 halls, departments, catalog), then N cases (default
 * 10,000,000; `--cases N`) generated DIRECTLY with `INSERT … SELECT generate_series` into the real `cases`
 * table, spread like a province:
 * - intake county by rank skew (rank r of the 88 counties ∝ a power law: 南明/云岩-sized districts get
 *   ~10× a small county), item by a skew over the catalog's items;
 * - channel mix by age and place: under 65 — 28 % pc, 37 % mobile, 27 % hall window, 6 % village agent,
 *   2 % post; 65+ (15 % of applicants) — 8 % pc, 12 % mobile, 55 % window, 22 % agent, 3 % post; window
 *   and agent cases at one of the county's halls (county hall ~45 %, else its townships' 便民服务中心);
 * - home county = the intake county for 88 %, else another; deciding county = intake for 92 %;
 * - filing instants over the 365 days of 2026 with a school-enrolment bump (Aug–Sep) and a year-end one;
 * - status: 12 % still open, 80 % delivered (visits 0–2, traditional visits 1–2), 5 % decided, 3 % withdrawn;
 *   closing day 1–40 days after filing; 4 % of decisions late.
 * Secondary indexes of `cases` are dropped for the load and `cases_intake_division_idx (intake division,
 * created_at)` — the one the anchor can use — is rebuilt afterwards, then ANALYZE.
 *
 * The matching rollup rows (`kpi_daily`, county / hall / item units) are produced by the bulk equivalent of
 * the kpi handler: one GROUP BY over the generated cases per side (filing day: received, online, nearby,
 * 65+; closing day: delivered, one-visit, trips saved, decisions with a limit, late; backlog deltas on both
 * days), then the prefecture and province units as sums of the county units. Then 200 dashboard queries through `KpiService.dashboard` (a province supervisor; random divisions
 * — province 5 %, prefectures 35 %, counties 60 % — and random periods of 7–92 days), p50/p99; and, as the
 * anchor, the raw GROUP BY over the cases table for the same answer (the same scope and period, per day and
 * per child: received, online, nearby, 65+ counts — the intake side of the dashboard), fewer runs as each
 * scans millions of rows. The first query's received/online totals are checked against the anchor's.
 *
 * Run: `npm run bench:kpi-dashboard -- [--cases N] [--runs 200] [--anchor-runs 20]` (10 M: ~10–25 min).
 * Needs PostgreSQL: DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 * The last stdout line is one JSON object.
 */
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import pg from 'pg';
import { addCalendarDays } from '../src/domain/calendar.ts';
import { principalFromDevActor } from '../src/server/modules/identity/principal.ts';
import { withBenchServer } from './lib/bench-server.ts';
import { percentile, round, seededRandom } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '200' },
    'anchor-runs': { type: 'string', default: '20' },
    seed: { type: 'string', default: '7' },
  },
});
const CASES = Number(args.cases);
const RUNS = Number(args.runs);
const ANCHOR_RUNS = Number(args['anchor-runs']);
const CHUNK = 500_000;
const YEAR_START = '2026-01-01';
const COLS = [
  'received',
  'online',
  'nearby_base',
  'nearby',
  'senior',
  'senior_offline',
  'delivered',
  'one_visit',
  'trips_saved',
  'decided_with_limit',
  'decided_late',
  'open_delta',
];

const log = (line: string) => process.stderr.write(`${line}\n`);

async function generate(client: pg.Client): Promise<void> {
  await client.query(`
    create temp table bench_counties as
      select row_number() over (order by code)::int as rank, code from divisions where level = 'county';
    create temp table bench_halls as
      select county_code, row_number() over (partition by county_code order by level = 'county' desc, code)::int as idx,
             code from halls where level in ('county', 'township') and county_code is not null;
    create temp table bench_hall_counts as select county_code, count(*)::int as n from bench_halls group by 1;
    create temp table bench_items as
      select row_number() over (order by popularity desc, code)::int as rank, code, name,
             greatest(1, least(2, coalesce((definition->>'requiredVisits')::int, 1))) as visits
      from catalog_service_items;
    create index on bench_halls (county_code, idx);`);
  const counties = Number((await client.query('select count(*) from bench_counties')).rows[0].count);
  const items = Number((await client.query('select count(*) from bench_items')).rows[0].count);
  // Secondary indexes off for the bulk load (the table is throwaway); the anchor's index is rebuilt after.
  const idx = await client.query(
    `select indexname from pg_indexes where tablename = 'cases' and indexname not like '%pkey'`,
  );
  for (const r of idx.rows) {
    const con = await client.query('select conname from pg_constraint where conname = $1', [r.indexname]);
    if (con.rowCount) await client.query(`alter table cases drop constraint "${r.indexname}"`);
    else await client.query(`drop index "${r.indexname}"`);
  }
  const bar = new SingleBar({ format: 'cases {bar} {value}/{total} ({eta}s left)', stream: process.stderr });
  bar.start(CASES, 0);
  for (let lo = 1; lo <= CASES; lo += CHUNK) {
    const hi = Math.min(CASES, lo + CHUNK - 1);
    await client.query(
      `
      insert into cases (number, item_code, item_name, implementation_code, applicant, applicant_key, channel,
        processing_mode, intake_hall_code, intake_division_code, deciding_division_code, form_data, status,
        outcome, state, limits, decision_due, warning, facts, visits, version, created_at, updated_at)
      select 'B' || lpad(g::text, 10, '0'), i.code, i.name, i.code || '-' || c.code,
        '{"kind":"natural_person"}'::jsonb, md5(g::text), x.channel,
        case when x.online then 'online' else 'off_site_intake' end,
        case when x.channel in ('hall_window', 'village_agent') then h.code end,
        c.code, case when r.cross_u < 0.08 then d.code else c.code end, '{}'::jsonb, x.status,
        case when x.status in ('decided', 'delivered') then 'granted' end,
        jsonb_build_object('status', x.status, 'late', r.late_u < 0.04,
          'closedOn', case when x.status <> 'under_review' then to_char(x.closed, 'YYYY-MM-DD') end),
        '{}'::jsonb, to_char(x.created_day + 30, 'YYYY-MM-DD'), 'none',
        jsonb_build_object('applicantCountyCode', case when r.home_u < 0.88 then c.code else hc.code end,
          'applicantAgeBand', case when r.senior then '65_plus' else 'under_65' end,
          'traditionalVisits', i.visits),
        case when x.channel in ('hall_window', 'village_agent') then 1 else 0 end + case when r.pickup_u < 0.3 then 1 else 0 end,
        1, x.created, x.created
      from generate_series($1::int, $2::int) g
      cross join lateral (
        select random() + 0 * g as cu, random() + 0 * g as iu, random() + 0 * g as chu, random() + 0 * g as hu,
               random() + 0 * g as cross_u, random() + 0 * g as home_u, random() + 0 * g < 0.15 as senior,
               random() + 0 * g as st_u, random() + 0 * g as late_u, random() + 0 * g as pickup_u,
               random() + 0 * g as day_u, random() + 0 * g as sec_u, random() + 0 * g as du, random() + 0 * g as hcu,
               random() + 0 * g as close_u, random() + 0 * g as tod_u
      ) r
      join bench_counties c on c.rank = 1 + floor(${counties} * power(r.cu, 1.6))::int
      join bench_counties d on d.rank = 1 + floor(${counties} * r.du)::int
      join bench_counties hc on hc.rank = 1 + floor(${counties} * r.hcu)::int
      join bench_items i on i.rank = 1 + floor(${items} * power(r.iu, 2.2))::int
      join bench_hall_counts hn on hn.county_code = c.code
      join bench_halls h on h.county_code = c.code
        and h.idx = case when r.hu < 0.45 then 1 else 1 + floor(hn.n * r.hu)::int end
      cross join lateral (
        select case
          when not r.senior then case when r.chu < 0.28 then 'pc' when r.chu < 0.65 then 'mobile'
            when r.chu < 0.92 then 'hall_window' when r.chu < 0.98 then 'village_agent' else 'post' end
          else case when r.chu < 0.08 then 'pc' when r.chu < 0.20 then 'mobile'
            when r.chu < 0.75 then 'hall_window' when r.chu < 0.97 then 'village_agent' else 'post' end
          end as channel,
          -- day of year: uniform, plus school enrolment (Aug–Sep) and year-end bumps
          case when r.sec_u < 0.12 then 212 + floor(r.day_u * 61) when r.sec_u < 0.20 then 334 + floor(r.day_u * 31)
            else floor(r.day_u * 365) end::int as doy
      ) y
      cross join lateral (
        select y.channel, y.channel in ('pc', 'mobile') as online,
          (date '${YEAR_START}' + y.doy) as created_day,
          ((date '${YEAR_START}' + y.doy)::timestamp + interval '9 hours' + (r.tod_u * 8 * 3600) * interval '1 second')
            at time zone 'Asia/Shanghai' as created,
          least(date '${YEAR_START}' + 364, date '${YEAR_START}' + y.doy + 1 + floor(r.close_u * 40)::int) as closed,
          case when r.st_u < 0.12 then 'under_review' when r.st_u < 0.92 then 'delivered'
            when r.st_u < 0.97 then 'decided' else 'withdrawn' end as status
      ) x
`,
      [lo, hi],
    );
    bar.update(hi);
  }
  bar.stop();
  log('rebuilding cases_intake_division_idx, ANALYZE …');
  await client.query('create index cases_intake_division_idx on cases (intake_division_code, created_at)');
  await client.query('analyze cases');
}

/** The bulk equivalent of the kpi handler over the generated cases (see the header). */
async function rollups(client: pg.Client): Promise<number> {
  await client.query(`
    create temp table bench_facts as
      select intake_division_code as intake, deciding_division_code as deciding, intake_hall_code as hall,
        item_code as item, channel, status, visits,
        (created_at at time zone 'Asia/Shanghai')::date as filed,
        (state->>'closedOn')::date as closed,
        facts->>'applicantCountyCode' as home, facts->>'applicantAgeBand' = '65_plus' as senior,
        (facts->>'traditionalVisits')::int as traditional, (state->>'late')::boolean as late
      from cases;`);
  // filing day, intake side (+ the backlog entry on the deciding side)
  const filing = `
    select kind, code, filed as day, county,
      count(*) filter (where unit_side <> 'deciding') as received,
      count(*) filter (where unit_side <> 'deciding' and channel in ('pc','mobile')) as online,
      count(*) filter (where unit_side <> 'deciding' and home is not null) as nearby_base,
      count(*) filter (where unit_side <> 'deciding' and (channel in ('pc','mobile') or home = intake)) as nearby,
      count(*) filter (where unit_side <> 'deciding' and senior) as senior,
      count(*) filter (where unit_side <> 'deciding' and senior and channel in ('hall_window','village_agent','post')) as senior_offline,
      0 as delivered, 0 as one_visit, 0 as trips_saved, 0 as decided_with_limit, 0 as decided_late,
      count(*) filter (where unit_side <> 'intake') as open_delta
    from (
      select 'county' as kind, intake as code, intake as county, 'intake' as unit_side, * from bench_facts
      union all select 'hall', hall, intake, 'both', * from bench_facts where hall is not null
      union all select 'item', item, '520000', 'both', * from bench_facts
      union all select 'county', deciding, deciding, 'deciding', * from bench_facts
    ) u
    group by kind, code, filed, county`;
  // closing day: delivered (intake side), decisions (deciding side), the backlog exit (deciding side)
  const closing = `
    select kind, code, closed as day, county,
      0, 0, 0, 0, 0, 0,
      count(*) filter (where unit_side <> 'deciding' and status = 'delivered') as delivered,
      count(*) filter (where unit_side <> 'deciding' and status = 'delivered' and visits <= 1) as one_visit,
      coalesce(sum(greatest(0, traditional - visits)) filter (where unit_side <> 'deciding' and status = 'delivered'), 0) as trips_saved,
      count(*) filter (where unit_side <> 'intake' and status in ('decided','delivered')) as decided_with_limit,
      count(*) filter (where unit_side <> 'intake' and status in ('decided','delivered') and late) as decided_late,
      -count(*) filter (where unit_side <> 'intake') as open_delta
    from (
      select 'county' as kind, intake as code, intake as county, 'intake' as unit_side, * from bench_facts
      union all select 'hall', hall, intake, 'both', * from bench_facts where hall is not null
      union all select 'item', item, '520000', 'both', * from bench_facts
      union all select 'county', deciding, deciding, 'deciding', * from bench_facts
    ) u
    where closed is not null
    group by kind, code, closed, county`;
  // intake county == deciding county: the two 'county' rows of one case are the same unit — merged by the sum
  await client.query(`
    insert into kpi_daily (unit_kind, unit_code, day, county_code, received, online, nearby_base, nearby, senior,
      senior_offline, delivered, one_visit, trips_saved, decided_with_limit, decided_late, open_delta)
    select kind, code, day, min(county), sum(received), sum(online), sum(nearby_base), sum(nearby), sum(senior),
      sum(senior_offline), sum(delivered), sum(one_visit), sum(trips_saved), sum(decided_with_limit),
      sum(decided_late), sum(open_delta)
    from (${filing} union all ${closing}) t
    group by kind, code, day`);
  // the prefecture and province units: sums of their county units (the handler writes them alongside)
  const sums = COLS.map((c) => `sum(${c})`).join(', ');
  await client.query(`
    insert into kpi_daily (unit_kind, unit_code, day, county_code, ${COLS.join(', ')})
    select 'prefecture', left(unit_code, 4), day, left(unit_code, 4) || '00', ${sums}
    from kpi_daily where unit_kind = 'county' group by 2, 3
    union all
    select 'province', left(unit_code, 2), day, left(unit_code, 2) || '0000', ${sums}
    from kpi_daily where unit_kind = 'county' group by 2, 3`);
  await client.query('analyze kpi_daily');
  return Number((await client.query('select count(*) from kpi_daily')).rows[0].count);
}

/** The anchor: the dashboard's intake-side answer straight from the cases table. */
const ANCHOR_SQL = `
  with scoped as (
    select intake_division_code as county, (created_at at time zone 'Asia/Shanghai')::date as day, channel,
      facts->>'applicantCountyCode' as home, facts->>'applicantAgeBand' = '65_plus' as senior
    from cases
    where intake_division_code >= $1 and intake_division_code < $2
      and created_at >= ($3::date)::timestamp at time zone 'Asia/Shanghai'
      and created_at < ($4::date + 1)::timestamp at time zone 'Asia/Shanghai')
  select 'day' as by, day::text as key, count(*) as received, count(*) filter (where channel in ('pc','mobile')) as online,
    count(*) filter (where channel in ('pc','mobile') or home = county) as nearby, count(*) filter (where senior) as senior
  from scoped group by day
  union all
  select 'child', left(county, $5), count(*), count(*) filter (where channel in ('pc','mobile')),
    count(*) filter (where channel in ('pc','mobile') or home = county), count(*) filter (where senior)
  from scoped group by left(county, $5)`;

function nextPrefix(prefix: string): string {
  return String(Number(prefix) + 1).padStart(prefix.length, '0');
}

await withBenchServer(async (server, dbUrl) => {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const t0 = performance.now();
    await generate(client);
    const generateS = (performance.now() - t0) / 1000;
    const cases = Number((await client.query('select count(*) from cases')).rows[0].count);
    log(`${cases} cases in ${round(generateS, 1)} s; rollups …`);
    const t1 = performance.now();
    const rollupRows = await rollups(client);
    const rollupS = (performance.now() - t1) / 1000;
    log(`${rollupRows} rollup rows in ${round(rollupS, 1)} s`);
    const sizes = (
      await client.query(
        `select pg_total_relation_size('cases') as cases, pg_total_relation_size('kpi_daily') as rollups`,
      )
    ).rows[0];

    const divisions = (
      await client.query(
        `select code, level from divisions where level in ('prefecture', 'county') order by code`,
      )
    ).rows as { code: string; level: string }[];
    const prefectures = divisions.filter((d) => d.level === 'prefecture').map((d) => d.code);
    const counties = divisions.filter((d) => d.level === 'county').map((d) => d.code);
    const random = seededRandom(Number(args.seed));
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const queries = Array.from({ length: Math.max(RUNS, ANCHOR_RUNS) }, () => {
      const u = random();
      const division = u < 0.05 ? '52' : u < 0.4 ? pick(prefectures) : pick(counties);
      const length = 7 + Math.floor(random() * 86);
      const from = addCalendarDays(YEAR_START, Math.floor(random() * (365 - length)));
      return { division, from, to: addCalendarDays(from, length - 1) };
    });
    const supervisor = principalFromDevActor({ kind: 'staff', id: 'bench-supervisor' });
    const kpi = server.services.kpi;
    // warm-up: the hall cache (19,500 halls' opening hours) and the plans
    for (const q of queries.slice(0, 5)) await kpi.dashboard(supervisor, q);

    const dash: number[] = [];
    for (const q of queries.slice(0, RUNS)) {
      const s = performance.now();
      await kpi.dashboard(supervisor, q);
      dash.push(performance.now() - s);
    }
    const anchor: number[] = [];
    let check: { dashboard: [number, number]; anchor: [number, number] } | undefined;
    for (const q of queries.slice(0, ANCHOR_RUNS)) {
      const s = performance.now();
      const rows = (
        await client.query(ANCHOR_SQL, [
          q.division,
          nextPrefix(q.division),
          q.from,
          q.to,
          q.division.length === 2 ? 4 : 6,
        ])
      ).rows as { by: string; received: string; online: string }[];
      anchor.push(performance.now() - s);
      if (!check) {
        const d = await kpi.dashboard(supervisor, q);
        const online = d.kpis.find((k) => k.id === 'online_share')!;
        const days = rows.filter((r) => r.by === 'day');
        check = {
          dashboard: [online.denominator, online.numerator],
          anchor: [
            days.reduce((a, r) => a + Number(r.received), 0),
            days.reduce((a, r) => a + Number(r.online), 0),
          ],
        };
      }
    }
    const explain = (
      await client.query(
        `explain (analyze, buffers) select day, sum(received) from kpi_daily
         where unit_kind = 'province' and unit_code = '52' and day between '2026-03-01' and '2026-05-31'
         group by day`,
      )
    ).rows
      .map((r: Record<string, string>) => r['QUERY PLAN'])
      .join('\n');
    log(`EXPLAIN province rollup read:\n${explain}`);
    const result = {
      bench: 'kpi-dashboard',
      cases,
      rollupRows,
      casesMb: round(Number(sizes.cases) / 1e6, 0),
      rollupsMb: round(Number(sizes.rollups) / 1e6, 0),
      generateS: round(generateS, 1),
      rollupS: round(rollupS, 1),
      dashboard: {
        runs: dash.length,
        p50Ms: round(percentile(dash, 50), 2),
        p99Ms: round(percentile(dash, 99), 2),
      },
      anchorGroupBy: {
        runs: anchor.length,
        p50Ms: round(percentile(anchor, 50), 1),
        p99Ms: round(percentile(anchor, 99), 1),
      },
      ratioP50: round(percentile(anchor, 50) / percentile(dash, 50), 1),
      goalP99Ms: 100,
      goalMet: percentile(dash, 99) <= 100,
      check: { ...check, equal: JSON.stringify(check?.dashboard) === JSON.stringify(check?.anchor) },
    };
    console.log(
      `dashboard p50 ${result.dashboard.p50Ms} ms, p99 ${result.dashboard.p99Ms} ms over ${dash.length} runs; raw GROUP BY over cases p50 ${result.anchorGroupBy.p50Ms} ms, p99 ${result.anchorGroupBy.p99Ms} ms (${anchor.length} runs); ratio ${result.ratioP50}×`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await client.end();
  }
});

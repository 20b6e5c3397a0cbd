/**
 * Benchmark: a department's inbox (待办) with 1,000,000 cases in PostgreSQL (issue 3, "Tests and benchmarks").
 *
 * One throwaway database (`tongban_bench_<pid>`, dropped at the end, also on failure): migrated and seeded
 * by `startServer`, then 1,000,000 cases bulk-loaded with `INSERT … SELECT generate_series` into the real
 * `cases` table (all its indexes in place) plus 2 materials each in `case_materials`:
 * - competent departments: the 1,916 real seeded departments that implement at least one catalog item,
 *   skewed like a province (rank r gets ∝ r^-0.6 of the cases: 南明区人社局 is the busiest, ≈ 4.6 %;
 *   the quietest get ≈ 130), each case for one of that department's real implementations;
 * - status: 2 % submitted, 8 % received, 15 % accepted, 57 % under review (82 % open), then decided,
 *   delivered, withdrawn; decision due spread over 2026 (none before acceptance); state/limits JSON
 *   shaped like a real case (a template taken from a case made through the service).
 * Then `ANALYZE`, and over a mix of busy, middle and quiet departments, p50/p99 of one inbox page
 * (limit 20) — the first page, and a deep page (a cursor from the middle of the department's list) —
 * through the service (`services.cases.inbox`), through HTTP (`GET /api/v1/departments/{id}/inbox`,
 * node:http keep-alive, one request at a time) and, as the anchor, the same SQL the repository runs
 * sent with `pg` (ratio = service p99 / SQL p99 is the service overhead). For contrast, the first page
 * also as an index-order query (`ORDER BY decision_due NULLS LAST, id`, which the
 * (competent_department_id, decision_due, id) index can return in order). EXPLAIN (ANALYZE) of the
 * repository's query for the busiest department is printed once.
 *
 * Run: `npm run bench:case-inbox` (≈ 3 min). The last stdout line is one JSON object.
 * Env: DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import pg from 'pg';
import { computeIdentityCheckCharacter } from '../src/domain/identity-number.ts';
import type { RunningServer } from '../src/server/main.ts';
import { withBenchServer } from './lib/bench-server.ts';
import { percentile, round } from './lib/stats.ts';

const CASES = 1_000_000;
const CHUNK = 125_000;
const MATERIALS_PER_CASE = 2;
const SKEW = 2.5; // department rank = ⌈N · u^SKEW⌉
const ROUNDS = 30; // per department and page kind
const OPEN = [
  'submitted',
  'received',
  'supplement_requested',
  'accepted',
  'under_review',
  'special_procedure',
];

/**
 * The repository's inbox query for dated cases (src/server/modules/cases/repository.ts `inbox`: a keyset
 * row comparison in the order of cases_inbox_idx), as plain SQL — the anchor for the service's overhead.
 */
const INBOX_SQL = `select * from cases
  where competent_department_id = $1 and status = any($2::text[]) and decision_due is not null
    and ($3::text is null or (decision_due, id) > ($3::text, $4::uuid))
  order by decision_due, id limit 20`;
/** The same first page in the index's order (nulls sort last in an ascending btree). */
const INDEX_ORDER_SQL = `select * from cases
  where competent_department_id = $1 and status = any($2::text[])
  order by decision_due nulls last, id limit 20`;

function machineCpu(): { busy: number; total: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: f.reduce((a, b) => a + b, 0) - idle, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function get(agent: http.Agent, base: URL, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ agent, host: base.hostname, port: base.port, path }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** The service's opaque cursor (base64url JSON of the last row's decisionDue and id). */
function cursorOf(row: { decision_due: string | null; id: string }): string {
  return Buffer.from(JSON.stringify({ decisionDue: row.decision_due, id: row.id })).toString('base64url');
}

async function main(): Promise<void> {
  const extra: pg.Client[] = [];
  await withBenchServer(
    async (server, dbUrl) => {
      const clients = await Promise.all(
        [0, 1].map(async () => {
          const c = new pg.Client({ connectionString: dbUrl });
          await c.connect();
          extra.push(c);
          return c;
        }),
      );
      await run(server, clients as [pg.Client, pg.Client]);
    },
    () => Promise.all(extra.map((c) => c.end().catch(() => {}))).then(() => {}),
  );
}

async function run(server: RunningServer, [c, c2]: [pg.Client, pg.Client]): Promise<void> {
  const b0 = machineCpu();
  await new Promise((r) => setTimeout(r, 1000));
  const b1 = machineCpu();
  const backgroundPct =
    b1.total > b0.total ? round((100 * (b1.busy - b0.busy)) / (b1.total - b0.total), 0) : 0;
  console.log(
    `machine: ${os.cpus().length} cores, ${backgroundPct} % busy before the run (load average ${os.loadavg()[0]!.toFixed(2)})`,
  );

  // ---------------------------------------------------------------- a template from a real case
  const busiest = await server.services.departments.findDepartment(
    '520102',
    'human_resources_social_security',
  );
  if (!busiest) throw new Error('no 南明区人社局 in the seeded departments');
  const first17 = '52010219900202221';
  const real = await server.services.cases.submit(
    {
      itemCode: '050002001000',
      applicant: {
        kind: 'natural_person',
        name: '李明',
        idNumber: first17 + computeIdentityCheckCharacter(first17),
      },
      channel: 'mobile',
      processingMode: 'online',
      decidingDivisionCode: '520102',
      delivery: { method: 'e_licence' },
    },
    { actor: { kind: 'applicant', id: 'li' }, idempotencyKey: randomUUID() },
  );
  const staff = { kind: 'staff' as const, id: 'hr-1', departmentId: real.case.competentDepartmentId! };
  for (const cmd of [{ type: 'receive' }, { type: 'accept' }, { type: 'start_review', step: '审查' }]) {
    await server.services.cases.command(real.case.number, cmd, {
      actor: staff,
      idempotencyKey: randomUUID(),
    });
  }

  // ------------------------------------------------------------------------------- bulk load
  const t0 = performance.now();
  await c.query(
    `create table bench_depts as
    select row_number() over (order by (d.id = $1::uuid) desc, md5(d.id::text)) as rank, d.id,
           rpad(d.division_code, 6, '0') as division6, d.division_code,
           array_agg(i.item_code order by i.code) as items, array_agg(s.name order by i.code) as names,
           array_agg(i.code order by i.code) as impls
      from departments d
      join catalog_implementations i on i.department_id = d.id
      join catalog_service_items s on s.code = i.item_code
     group by d.id`,
    [busiest.id],
  );
  await c.query('create unique index on bench_depts (rank)');
  const departments = Number(
    (await c.query<{ n: string }>('select count(*) as n from bench_depts')).rows[0]!.n,
  );
  const template = (
    await c.query<{ state: unknown; limits: unknown }>('select state, limits from cases where number = $1', [
      real.case.number,
    ])
  ).rows[0]!;
  const insert = `
    insert into cases (number, item_code, item_name, implementation_code, applicant, applicant_key, channel,
      processing_mode, intake_division_code, competent_department_id, deciding_division_code, form_data, status,
      outcome, state, limits, decision_due, supplement_due, warning, delivery, version, created_at, updated_at)
    select d.division6 || to_char(x.created, 'YYYYMMDD') || lpad((g + 1000000)::text, 7, '0'),
      d.items[x.k], d.names[x.k], d.impls[x.k],
      jsonb_build_object('kind', 'natural_person', 'name', '申请人' || g,
        'idNumber', '5201' || lpad((g::bigint * 7919 % 100000000000000)::text, 14, '0')),
      md5(g::text) || md5(g::text || 'k'),
      x.channel, x.mode, d.division6, d.id, d.division_code, '{}'::jsonb, x.status,
      case when x.status in ('decided', 'delivered') then 'granted' end,
      $1::jsonb || jsonb_build_object('status', x.status, 'processingMode', x.mode,
        'competentDepartmentId', d.id::text, 'submittedOn', to_char(x.created, 'YYYY-MM-DD'),
        'lastEventOn', to_char(x.created, 'YYYY-MM-DD'),
        'receivedOn', case when x.status <> 'submitted' then to_char(x.created, 'YYYY-MM-DD') end,
        'materialsReceivedOn', case when x.status <> 'submitted' then to_char(x.created, 'YYYY-MM-DD') end,
        'acceptedOn', case when x.due is not null then to_char(x.due - 28, 'YYYY-MM-DD') end,
        'reviewStep', case when x.status = 'under_review' then '审查' end,
        'outcome', case when x.status in ('decided', 'delivered') then 'granted' end,
        'decidedOn', case when x.status in ('decided', 'delivered') then to_char(x.due - 3, 'YYYY-MM-DD') end,
        'closedOn', case when x.status in ('decided', 'delivered', 'withdrawn') then to_char(x.due - 3, 'YYYY-MM-DD') end),
      $2::jsonb, to_char(x.due, 'YYYY-MM-DD'),
      case when x.status = 'received' then to_char(x.created + 7, 'YYYY-MM-DD') end,
      'none', '{"preference":{"method":"e_licence"}}'::jsonb, 3, x.created, x.created
    from generate_series($3::int, $4::int) g
    cross join lateral (
      select least(${departments}, 1 + floor(${departments} * power(random() + 0 * g, ${SKEW})))::int as rank,
             random() + 0 * g as u, random() + 0 * g as v, random() + 0 * g as w
    ) r
    join bench_depts d on d.rank = r.rank
    cross join lateral (
      select s.status, s.due, coalesce(s.due - 30, date '2026-01-01' + (r.w * 330)::int) as created,
             1 + floor(r.v * array_length(d.items, 1))::int as k,
             (array['mobile', 'mobile', 'pc', 'hall_window', 'village_agent'])[1 + floor(r.w * 5)::int] as channel,
             case when r.w < 0.8 then 'online' else 'off_site_intake' end as mode
      from (select case when r.u < 0.02 then 'submitted' when r.u < 0.10 then 'received'
                        when r.u < 0.25 then 'accepted' when r.u < 0.82 then 'under_review'
                        when r.u < 0.92 then 'decided' when r.u < 0.98 then 'delivered' else 'withdrawn' end as status) st
      cross join lateral (select st.status,
        case when st.status in ('submitted', 'received') then null
             else date '2026-01-01' + (r.v * 364)::int end as due) s
    ) x`;
  const chunks: [number, number][] = [];
  for (let from = 1; from <= CASES; from += CHUNK) chunks.push([from, Math.min(CASES, from + CHUNK - 1)]);
  // Two connections load in parallel (one per core).
  let nextChunk = 0;
  await Promise.all(
    [c, c2].map(async (conn, i) => {
      await conn.query('select setseed($1)', [0.1 + i * 0.2]);
      while (nextChunk < chunks.length) {
        const [from, to] = chunks[nextChunk++]!;
        await conn.query(insert, [template.state, template.limits, from, to]);
      }
    }),
  );
  const casesS = (performance.now() - t0) / 1000;
  const materials = `insert into case_materials (case_id, seq, name, required)
    select id, m.seq, m.name, true from cases
    cross join (values (1, '申请表'), (2, '居民身份证')) as m(seq, name)
    where number >= $1 and number < $2
    on conflict do nothing`;
  // Split the materials load by the first digits of the case number (the division) into two halves.
  const mid = (
    await c.query<{ n: string }>(`select number as n from cases order by number offset ${CASES / 2} limit 1`)
  ).rows[0]!.n;
  await Promise.all([c.query(materials, ['0', mid]), c2.query(materials, [mid, 'a'])]);
  await c.query('analyze');
  const loadS = (performance.now() - t0) / 1000;
  const total = Number((await c.query<{ n: string }>('select count(*) as n from cases')).rows[0]!.n);
  const size = (
    await c.query<{ t: string; i: string }>(
      `select pg_size_pretty(pg_table_size('cases')) as t, pg_size_pretty(pg_indexes_size('cases')) as i`,
    )
  ).rows[0]!;
  console.log(
    `loaded ${total.toLocaleString('en')} cases over ${departments} departments in ${round(casesS, 1)} s, + ${MATERIALS_PER_CASE} materials each and ANALYZE: ${round(loadS, 1)} s (table ${size.t}, indexes ${size.i})`,
  );

  // ------------------------------------------------------------------- departments to ask for
  const counts = await c.query<{ rank: string; id: string; open: string }>(
    `select d.rank, d.id, count(*) as open from bench_depts d join cases c on c.competent_department_id = d.id
      where c.status = any($1::text[]) group by d.rank, d.id order by d.rank`,
    [OPEN],
  );
  const byRank = counts.rows.map((r) => ({ rank: Number(r.rank), id: r.id, open: Number(r.open) }));
  const pick = (rank: number) =>
    byRank.reduce((a, b) => (Math.abs(b.rank - rank) < Math.abs(a.rank - rank) ? b : a));
  const chosen = [
    { label: 'busiest (南明区人社局)', ...pick(1) },
    { label: 'busy #2', ...pick(2) },
    { label: 'busy #5', ...pick(5) },
    { label: 'middle #100', ...pick(100) },
    { label: 'middle #500', ...pick(500) },
    { label: 'quiet #1500', ...pick(1500) },
    { label: 'quietest', ...pick(departments) },
  ];
  // A deep page: the cursor of the row in the middle of the department's list.
  const depts: ((typeof chosen)[number] & { deep: { decision_due: string | null; id: string } })[] = [];
  for (const d of chosen) {
    const r = await c.query<{ decision_due: string | null; id: string }>(
      `select decision_due, id from cases where competent_department_id = $1 and status = any($2::text[])
        order by decision_due nulls last, id offset $3 limit 1`,
      [d.id, OPEN, Math.floor(d.open / 2)],
    );
    depts.push({ ...d, deep: r.rows[0]! });
    console.log(`  ${d.label.padEnd(24)} ${d.id}  ${d.open.toLocaleString('en').padStart(7)} open cases`);
  }

  const plan = await c.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) ${INBOX_SQL}`, [
    depts[0]!.id,
    OPEN,
    null,
    null,
  ]);
  console.log(`\nEXPLAIN ANALYZE of the repository's inbox query, first page of ${depts[0]!.label}:`);
  for (const row of plan.rows) console.log(`  ${row['QUERY PLAN']}`);
  const plan2 = await c.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off) ${INDEX_ORDER_SQL}`, [
    depts[0]!.id,
    OPEN,
  ]);
  console.log('EXPLAIN ANALYZE of the index-order variant (ORDER BY decision_due NULLS LAST, id):');
  for (const row of plan2.rows) console.log(`  ${row['QUERY PLAN']}`);

  // ---------------------------------------------------------------------------------- measure
  const base = new URL(server.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  type Kind = 'first' | 'deep';
  const ways = {
    sql: async (d: (typeof depts)[number], kind: Kind) => {
      const r = await c.query(INBOX_SQL, [
        d.id,
        OPEN,
        kind === 'deep' ? (d.deep.decision_due ?? '9999-12-31') : null,
        kind === 'deep' ? d.deep.id : null,
      ]);
      return r.rows.length;
    },
    sql_index_order: async (d: (typeof depts)[number], kind: Kind) => {
      if (kind === 'deep') return -1;
      return (await c.query(INDEX_ORDER_SQL, [d.id, OPEN])).rows.length;
    },
    service: async (d: (typeof depts)[number], kind: Kind) => {
      const r = await server.services.cases.inbox(d.id, {
        limit: 20,
        ...(kind === 'deep' ? { cursor: cursorOf(d.deep) } : {}),
      });
      return r.items.length;
    },
    http: async (d: (typeof depts)[number], kind: Kind) => {
      const q = kind === 'deep' ? `&cursor=${cursorOf(d.deep)}` : '';
      const r = await get(agent, base, `/api/v1/departments/${d.id}/inbox?limit=20${q}`);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 300)}`);
      return (JSON.parse(r.body) as { items: unknown[] }).items.length;
    },
  };
  type Way = keyof typeof ways;
  const samples: Record<Way, Record<Kind, number[]>> = {
    sql: { first: [], deep: [] },
    sql_index_order: { first: [], deep: [] },
    service: { first: [], deep: [] },
    http: { first: [], deep: [] },
  };
  const perDept: Record<string, Record<string, number[]>> = {};
  // Warm-up: each way once per department and kind; check that every way returns a full page.
  for (const d of depts)
    for (const way of Object.keys(ways) as Way[])
      for (const kind of ['first', 'deep'] as Kind[]) {
        const n = await ways[way](d, kind);
        if (n !== -1 && n !== Math.min(20, kind === 'deep' ? d.open - Math.floor(d.open / 2) - 1 : d.open))
          console.log(`  note: ${way} ${kind} page of ${d.label} has ${n} rows`);
      }
  // Interleave ways, departments and page kinds so that drifts of the machine hit all of them alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const d of depts) {
      for (const kind of ['first', 'deep'] as Kind[]) {
        for (const way of Object.keys(ways) as Way[]) {
          if (way === 'sql_index_order' && kind === 'deep') continue;
          const t = performance.now();
          await ways[way](d, kind);
          const dt = performance.now() - t;
          samples[way][kind].push(dt);
          const mine = perDept[d.label] ?? {};
          perDept[d.label] = mine;
          const key = `${way}_${kind}`;
          mine[key] = [...(mine[key] ?? []), dt];
        }
      }
    }
  }
  agent.destroy();

  const p = (s: number[], q: number) => round(percentile(s, q), 2);
  const all = (w: Way) => [...samples[w].first, ...samples[w].deep];
  console.log('\nper department p50 / p99 ms (first page | deep page):');
  for (const d of depts) {
    const s = perDept[d.label]!;
    const f = (k: string) => `${p(s[k]!, 50)}/${p(s[k]!, 99)}`;
    console.log(
      `  ${d.label.padEnd(24)} sql ${f('sql_first')} | ${f('sql_deep')}   service ${f('service_first')} | ${f('service_deep')}   http ${f('http_first')} | ${f('http_deep')}   index-order sql ${f('sql_index_order_first')}`,
    );
  }
  const result = {
    bench: 'case-inbox',
    cases: total,
    departments,
    materials_per_case: MATERIALS_PER_CASE,
    background_busy_pct: backgroundPct,
    load_cases_s: round(casesS, 1),
    load_s: round(loadS, 1),
    busiest_open_cases: depts[0]!.open,
    quietest_open_cases: depts.at(-1)!.open,
    requests_per_way: all('service').length,
    service_p50_ms: p(all('service'), 50),
    service_p99_ms: p(all('service'), 99),
    service_first_p99_ms: p(samples.service.first, 99),
    service_deep_p99_ms: p(samples.service.deep, 99),
    http_p50_ms: p(all('http'), 50),
    http_p99_ms: p(all('http'), 99),
    http_first_p99_ms: p(samples.http.first, 99),
    http_deep_p99_ms: p(samples.http.deep, 99),
    sql_p50_ms: p(all('sql'), 50),
    sql_p99_ms: p(all('sql'), 99),
    sql_first_p99_ms: p(samples.sql.first, 99),
    sql_deep_p99_ms: p(samples.sql.deep, 99),
    sql_index_order_first_p99_ms: p(samples.sql_index_order.first, 99),
    ratio: round(percentile(all('service'), 99) / percentile(all('sql'), 99), 2),
    http_ratio: round(percentile(all('http'), 99) / percentile(all('sql'), 99), 2),
  };
  console.log(
    `\nservice p50/p99 ${result.service_p50_ms}/${result.service_p99_ms} ms, HTTP ${result.http_p50_ms}/${result.http_p99_ms} ms, SQL anchor ${result.sql_p50_ms}/${result.sql_p99_ms} ms; service/SQL p99 ratio ${result.ratio}×, index-order SQL first page p99 ${result.sql_index_order_first_p99_ms} ms`,
  );
  console.log(JSON.stringify(result));
}

await main();

/**
 * Benchmark: case transitions per second against PostgreSQL (issue 3, "Tests and benchmarks").
 *
 * One run, one throwaway database (`tongban_bench_<pid>`, dropped at the end, also on failure):
 *
 * 1. Anchor — the raw database limit: `pgbench` (fixed clients and duration, prepared protocol) on a
 *    transaction shaped like one transition, against the REAL tables of a migrated, seeded database:
 *    read the case's version, `UPDATE cases` (jsonb state + version bump `WHERE version = :v`), `INSERT`
 *    a `case_events` row and an `outbox` row, commit. Each pgbench client owns its own slice of 2,000
 *    look-alike cases (copies of the HTTP cases), so no two clients touch one row. A second pgbench run
 *    adds the `pg_notify` every real transition sends, to show what the notification queue costs.
 * 2. HTTP end to end: 2,000 online cases of 失业保险金申领 (050002001000, decided by 南明区人社局) are
 *    created through the service and brought to 审查 (under_review); then a load generator in a worker
 *    thread of this process (node:http keep-alive to 127.0.0.1, so it does not share the server's event
 *    loop) drives `POST /api/v1/cases/{number}/commands {"type":"review_step"}` — a real transition
 *    that keeps the case open — closed-loop at several concurrencies for a fixed time each; no case is
 *    in flight twice. The best rate is the maximum.
 * 3. Open loop at HALF that maximum: requests start on a fixed schedule for 15 s whatever the
 *    responses do; latency is measured from the scheduled start (no coordinated omission).
 *
 * Also reported: statements sent per transition (counted on node-postgres' Client.query) and WAL bytes
 * per transition for pgbench and HTTP. Goal (issue 3): http/pgbench ≥ 0.5 and p99 ≤ 50 ms at half rate.
 *
 * Run: `npm run bench:case-throughput` (≈ 2 min). The last stdout line is one JSON object.
 * Env: DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), PGBENCH (/usr/bin/pgbench),
 * BENCH_CPU_PROFILE=FILE.cpuprofile (profile the server thread during the first closed-loop level; open it
 * in Chrome DevTools).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import pg from 'pg';
import { computeIdentityCheckCharacter } from '../src/domain/identity-number.ts';
import type { RunningServer } from '../src/server/main.ts';
import { withBenchServer } from './lib/bench-server.ts';
import { percentile, round } from './lib/stats.ts';

const CASES = 2_000;
const PGBENCH_CLIENTS = 8;
const PGBENCH_THREADS = 2;
const PGBENCH_SECONDS = 15;
const PGBENCH_NOTIFY_SECONDS = 8;
const HTTP_LEVELS = [8, 16, 32];
const HTTP_WARMUP_MS = 2_000;
const HTTP_LEVEL_MS = 8_000;
const HALF_RATE_MS = 15_000;
const GOAL_RATIO = 0.5;
const GOAL_P99_MS = 50;
const STEPS = ['审查', '复核', '审核'];
const ITEM = '050002001000'; // 失业保险金申领 (参保地 decides)

// ------------------------------------------------------------------------------------- load worker
interface Target {
  number: string;
  actor: string;
}
interface LoadJob {
  url: string;
  targets: Target[];
  mode: 'closed' | 'open';
  /** closed: requests in flight; open: socket limit. */
  concurrency: number;
  /** open: requests per second. */
  rate: number;
  durationMs: number;
  warmupMs: number;
}
interface LoadResult {
  ok: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  latencies: number[];
  /** open loop: requests that found no free case (should be 0). */
  skipped: number;
}

function post(agent: http.Agent, url: URL, path: string, actor: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': randomUUID(),
          'x-tongban-actor': actor,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) resolve(200);
          else reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(job.concurrency, 64) });
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let skipped = 0;
  let firstError: string | null = null;
  let counter = 0;
  const transition = async (t: Target, recording: boolean, startedAt: number): Promise<void> => {
    const body = JSON.stringify({ type: 'review_step', step: STEPS[counter++ % STEPS.length] });
    try {
      await post(agent, url, `/api/v1/cases/${t.number}/commands`, t.actor, body);
      if (recording) {
        ok++;
        latencies.push(performance.now() - startedAt);
      }
    } catch (e) {
      if (recording) errors++;
      firstError ??= (e as Error).message;
    }
  };
  const t0 = performance.now();
  const measureFrom = t0 + job.warmupMs;
  const end = measureFrom + job.durationMs;
  if (job.mode === 'closed') {
    // Worker k owns cases k, k + C, k + 2C, … : one request per case at a time.
    await Promise.all(
      Array.from({ length: job.concurrency }, async (_, k) => {
        const mine = job.targets.filter((_, i) => i % job.concurrency === k);
        let i = 0;
        for (;;) {
          const start = performance.now();
          if (start >= end) return;
          await transition(mine[i++ % mine.length]!, start >= measureFrom, start);
        }
      }),
    );
  } else {
    const free = [...job.targets];
    const inflight = new Set<Promise<void>>();
    const interval = 1000 / job.rate;
    let n = 0;
    for (;;) {
      const scheduled = t0 + n * interval;
      if (scheduled >= end) break;
      const wait = scheduled - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait - 1));
      while (performance.now() < scheduled) {
        // spin the last millisecond for an exact schedule
      }
      n++;
      const t = free.shift();
      if (!t) {
        skipped++;
        continue;
      }
      const p = transition(t, scheduled >= measureFrom, scheduled).finally(() => {
        free.push(t);
        inflight.delete(p);
      });
      inflight.add(p);
    }
    await Promise.all(inflight);
  }
  agent.destroy();
  return { ok, errors, firstError, elapsedMs: job.durationMs, latencies, skipped };
}

function loadInWorker(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`));
    });
  });
}

// ------------------------------------------------------------------------------------------- main
async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-bench-'));
  await withBenchServer(
    (server, dbUrl) => run(server, dbUrl, tmp),
    () => fs.rmSync(tmp, { recursive: true, force: true }),
  );
}

/** node-postgres statements sent (every Client.query call, BEGIN/COMMIT included). */
let statements = 0;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

function pgbench(
  dbUrl: string,
  script: string,
  seconds: number,
  vars: Record<string, number>,
): Promise<{ tps: number; transactions: number; latencyMs: number; output: string }> {
  const u = new URL(dbUrl);
  const args = [
    '-h',
    u.hostname,
    '-p',
    u.port || '5432',
    '-U',
    decodeURIComponent(u.username || 'postgres'),
    '-n',
    '-M',
    'prepared',
    '-c',
    String(PGBENCH_CLIENTS),
    '-j',
    String(PGBENCH_THREADS),
    '-T',
    String(seconds),
    '-f',
    script,
    ...Object.entries(vars).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
    u.pathname.slice(1),
  ];
  return new Promise((resolve, reject) => {
    execFile(
      process.env.PGBENCH ?? '/usr/bin/pgbench',
      args,
      { timeout: (seconds + 30) * 1000 },
      (err, stdout, stderr) => {
        const output = `${stdout}\n${stderr}`;
        const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
        const tx = /number of transactions actually processed: (\d+)/.exec(stdout);
        const lat = /latency average = ([\d.]+) ms/.exec(stdout);
        const failed = /number of failed transactions: (\d+)/.exec(stdout);
        if (err || !tps || !tx || (failed && Number(failed[1]) > 0) || /aborted/i.test(stderr)) {
          reject(new Error(`pgbench failed: ${err?.message ?? ''}\n${output}`));
          return;
        }
        resolve({ tps: Number(tps[1]), transactions: Number(tx[1]), latencyMs: Number(lat?.[1]), output });
      },
    );
  });
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat; zeros where unavailable. */
function machineCpu(): { busy: number; total: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU time of this thread (the HTTP server's event loop), ms. */
function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

async function walLsn(c: pg.Client): Promise<bigint> {
  const r = await c.query<{ b: string }>(`select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint as b`);
  return BigInt(r.rows[0]!.b);
}

async function run(server: RunningServer, dbUrl: string, tmp: string): Promise<void> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    // Other work on this machine skews every figure: say how busy it was before we started.
    const b0 = machineCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const b1 = machineCpu();
    const backgroundPct =
      b1.total > b0.total ? round((100 * (b1.busy - b0.busy)) / (b1.total - b0.total), 0) : 0;
    console.log(
      `machine: ${os.cpus().length} cores, ${backgroundPct} % busy before the run (load average ${os.loadavg()[0]!.toFixed(2)})`,
    );
    const t0 = performance.now();
    // --------------------------------------------------------------- 2,000 cases brought to 审查
    const first = await server.services.departments.findDepartment(
      '520102',
      'human_resources_social_security',
    );
    if (!first) throw new Error('no 南明区人社局 in the seeded departments');
    const applicants = Array.from({ length: CASES }, (_, i) => {
      const birth = `19${60 + (i % 40)}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`;
      const first17 = `520102${birth}${String(i % 1000).padStart(3, '0')}`;
      return first17 + computeIdentityCheckCharacter(first17);
    });
    const targets: Target[] = new Array(CASES);
    let department = '';
    await pool(applicants, 8, async (idNumber, i) => {
      const submitted = await server.services.cases.submit(
        {
          itemCode: ITEM,
          applicant: { kind: 'natural_person', name: `申请人${i}`, idNumber },
          channel: 'mobile',
          processingMode: 'online',
          decidingDivisionCode: '520102',
          delivery: { method: 'e_licence' },
        },
        { actor: { kind: 'applicant', id: `a${i}` }, idempotencyKey: randomUUID() },
      );
      const dep = submitted.case.competentDepartmentId!;
      department = dep;
      const actor = { kind: 'staff' as const, id: `hr-${i % 50}`, departmentId: dep };
      for (const cmd of [{ type: 'receive' }, { type: 'accept' }, { type: 'start_review', step: '审查' }]) {
        await server.services.cases.command(submitted.case.number, cmd, {
          actor,
          idempotencyKey: randomUUID(),
        });
      }
      targets[i] = { number: submitted.case.number, actor: `staff:hr-${i % 50};department=${dep}` };
    });
    const setupS = (performance.now() - t0) / 1000;
    console.log(
      `setup: ${CASES} online cases of ${ITEM} submitted, received, accepted, under review in ${round(setupS, 1)} s (department ${department})`,
    );

    // ------------------------------------------------------------------------ pgbench anchor
    // Look-alike cases (copies of the HTTP cases, version 1, no events) with integer keys for pgbench.
    await c.query(`create table bench_pgbench_keys (n int primary key, id uuid not null)`);
    await c.query(
      `with src as (select c.*, row_number() over (order by c.number) as n from cases c where c.item_code = $1),
            ins as (
              insert into cases (id, number, item_code, item_name, implementation_code, applicant, applicant_key,
                agent, channel, processing_mode, intake_hall_code, intake_division_code, competent_department_id,
                deciding_division_code, form_data, status, outcome, state, limits, decision_due, supplement_due,
                certificate_due, due_provisional, warning, delivery, visits, version)
              select gen_random_uuid(), '529999' || lpad(n::text, 15, '0'), item_code, item_name,
                implementation_code, applicant, applicant_key, agent, channel, processing_mode, intake_hall_code,
                intake_division_code, competent_department_id, deciding_division_code, form_data, status, outcome,
                state, limits, decision_due, supplement_due, certificate_due, due_provisional, warning, delivery,
                visits, 1
              from src returning id, number)
       insert into bench_pgbench_keys select substr(number, 7)::int, id from ins`,
      [ITEM],
    );
    await c.query('vacuum analyze cases, case_events, outbox, bench_pgbench_keys');
    const payload = JSON.stringify({
      caseId: '00000000-0000-0000-0000-000000000000',
      caseNumber: '520102202611290000001',
      itemCode: ITEM,
      itemName: '失业保险金申领',
      status: 'under_review',
      applicant: { name: '申请人' },
      competentDepartmentId: department,
      intakeHallCode: null,
      deadline: '2026-12-02',
    }).replaceAll('":', '": '); // pgbench would read `:null` as a variable
    const tx = `\\set n 1 + :client_id + ${PGBENCH_CLIENTS} * random(0, :per - 1)
BEGIN;
SELECT k.id AS cid, c.version AS v FROM bench_pgbench_keys k JOIN cases c ON c.id = k.id WHERE k.n = :n \\gset
UPDATE cases SET state = jsonb_set(state, '{reviewStep}', '"复核"'), status = 'under_review', version = :v + 1, updated_at = now() WHERE id = :cid AND version = :v;
INSERT INTO case_events (case_id, seq, type, from_status, to_status, at, actor, reason, data) VALUES (:cid, :v + 1, 'review_step', 'under_review', 'under_review', now(), '{"kind":"staff","id":"hr-1","departmentId":"${department}"}', NULL, '{"step":"复核"}');
INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload) VALUES ('case.review_step', 'case', :cid, '${payload}');
`;
    const plain = path.join(tmp, 'transition.sql');
    const notify = path.join(tmp, 'transition-notify.sql');
    fs.writeFileSync(plain, `${tx}END;\n`);
    fs.writeFileSync(
      notify,
      `${tx}SELECT pg_notify('tongban_cases', '{"id":"' || :cid || '","status":"under_review","version":' || (:v + 1) || '}');\nEND;\n`,
    );
    const vars = { per: Math.floor(CASES / PGBENCH_CLIENTS) };
    let wal0 = await walLsn(c);
    const bench = await pgbench(dbUrl, plain, PGBENCH_SECONDS, vars);
    const pgbenchWal = Number((await walLsn(c)) - wal0) / bench.transactions;
    console.log(
      `pgbench (${PGBENCH_CLIENTS} clients, ${PGBENCH_THREADS} threads, ${PGBENCH_SECONDS} s, prepared): ${bench.tps} tps, latency avg ${bench.latencyMs} ms, ${round(pgbenchWal, 0)} WAL bytes/tx`,
    );
    const benchNotify = await pgbench(dbUrl, notify, PGBENCH_NOTIFY_SECONDS, vars);
    console.log(
      `pgbench + pg_notify (${PGBENCH_NOTIFY_SECONDS} s): ${benchNotify.tps} tps, latency avg ${benchNotify.latencyMs} ms`,
    );

    // -------------------------------------------------------------------- HTTP closed loop
    const levels: {
      concurrency: number;
      rate: number;
      p50: number;
      p99: number;
      errors: number;
      statementsPerTx: number;
      walPerTx: number;
      serverThreadBusyPct: number;
      serverCpuMsPerTx: number;
      machineBusyPct: number;
    }[] = [];
    for (const [levelIndex, concurrency] of HTTP_LEVELS.entries()) {
      const profile = levelIndex === 0 && process.env.BENCH_CPU_PROFILE ? new Session() : null;
      if (profile) {
        profile.connect();
        await profile.post('Profiler.enable');
        await profile.post('Profiler.start');
      }
      const s0 = statements;
      wal0 = await walLsn(c);
      const cpu0 = threadCpuMs();
      const m0 = machineCpu();
      const w0 = performance.now();
      const r = await loadInWorker({
        url: server.url,
        targets,
        mode: 'closed',
        concurrency,
        rate: 0,
        durationMs: HTTP_LEVEL_MS,
        warmupMs: HTTP_WARMUP_MS,
      });
      if (profile) {
        const { profile: cpu } = await profile.post('Profiler.stop');
        fs.writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(cpu));
        profile.disconnect();
      }
      if (r.ok === 0) throw new Error(`no transition succeeded: ${r.firstError}`);
      const wall = performance.now() - w0;
      const serverCpu = threadCpuMs() - cpu0;
      const m1 = machineCpu();
      const sent = statements - s0;
      const walBytes = Number((await walLsn(c)) - wal0);
      // Statements and WAL cover warm-up + measured window: divide by all requests of both.
      const all = r.ok * ((HTTP_WARMUP_MS + HTTP_LEVEL_MS) / HTTP_LEVEL_MS);
      const level = {
        concurrency,
        rate: round(r.ok / (r.elapsedMs / 1000), 1),
        p50: round(percentile(r.latencies, 50), 2),
        p99: round(percentile(r.latencies, 99), 2),
        errors: r.errors,
        statementsPerTx: round(sent / all, 1),
        walPerTx: round(walBytes / all, 0),
        serverThreadBusyPct: round((100 * serverCpu) / wall, 0),
        serverCpuMsPerTx: round(serverCpu / all, 2),
        machineBusyPct:
          m1.total > m0.total ? round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total), 0) : 0,
      };
      levels.push(level);
      console.log(
        `HTTP closed loop, ${concurrency} in flight, ${HTTP_LEVEL_MS / 1000} s: ${level.rate} transitions/s, p50 ${level.p50} ms, p99 ${level.p99} ms, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}, ~${level.statementsPerTx} statements and ~${level.walPerTx} WAL bytes per transition; server thread ${level.serverThreadBusyPct} % busy (${level.serverCpuMsPerTx} ms CPU/transition), machine ${level.machineBusyPct} % busy`,
      );
    }
    const best = levels.reduce((a, b) => (b.rate > a.rate ? b : a));
    const maxRate = best.rate;

    // ---------------------------------------------------------------- open loop at half rate
    const halfRate = round(maxRate / 2, 1);
    const open = await loadInWorker({
      url: server.url,
      targets,
      mode: 'open',
      concurrency: 64,
      rate: halfRate,
      durationMs: HALF_RATE_MS,
      warmupMs: 1_000,
    });
    const p50 = round(percentile(open.latencies, 50), 2);
    const p99 = round(percentile(open.latencies, 99), 2);
    const achieved = round(open.ok / (HALF_RATE_MS / 1000), 1);
    console.log(
      `HTTP open loop at ${halfRate}/s for ${HALF_RATE_MS / 1000} s: ${open.ok} ok (${achieved}/s), ${open.errors} errors, ${open.skipped} skipped; p50 ${p50} ms, p95 ${round(percentile(open.latencies, 95), 2)} ms, p99 ${p99} ms, max ${round(Math.max(...open.latencies), 2)} ms`,
    );

    const events = await c.query<{ n: string }>('select count(*) as n from case_events');
    const ratio = round(maxRate / bench.tps, 3);
    const result = {
      bench: 'case-throughput',
      cases: CASES,
      cores: os.cpus().length,
      background_busy_pct: backgroundPct,
      setup_s: round(setupS, 1),
      pgbench_clients: PGBENCH_CLIENTS,
      pgbench_tps: round(bench.tps, 1),
      pgbench_latency_ms: bench.latencyMs,
      pgbench_wal_bytes_per_tx: round(pgbenchWal, 0),
      pgbench_notify_tps: round(benchNotify.tps, 1),
      http_levels: levels,
      http_transitions_per_s: maxRate,
      http_best_concurrency: best.concurrency,
      http_statements_per_transition: best.statementsPerTx,
      http_wal_bytes_per_transition: best.walPerTx,
      ratio,
      half_rate: halfRate,
      half_rate_achieved: achieved,
      half_rate_errors: open.errors,
      p50_ms: p50,
      p99_ms: p99,
      case_events: Number(events.rows[0]!.n),
      goal_ratio: GOAL_RATIO,
      goal_p99_ms: GOAL_P99_MS,
      goal_met: ratio >= GOAL_RATIO && p99 <= GOAL_P99_MS && open.errors === 0,
    };
    console.log(
      `ratio http/pgbench = ${ratio} (goal ≥ ${GOAL_RATIO}); p99 at half rate ${p99} ms (goal ≤ ${GOAL_P99_MS} ms): goal ${result.goal_met ? 'met' : 'NOT met'}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await c.end();
  }
}

if (!isMainThread) {
  parentPort!.postMessage(await runLoad(workerData as LoadJob));
} else {
  await main();
}

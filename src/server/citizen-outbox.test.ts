/**
 * The citizen app's outbox sender (src/web/citizen/offline/sender.ts, 离线可办) against the REAL server
 * on a port (PGlite, every module): applications saved offline reach the server exactly once however
 * the network fails — requests lost before they arrive, answers lost after the server acted, captive
 * portal pages, 503 with Retry-After — and one the server refuses waits for the user without holding
 * back the others. Only the network is interfered with (a wrapper around Node's fetch); the server and
 * the database are real.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../testing/pii-flow.ts';
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  type FetchLike,
  newEntry,
  OutboxSender,
  type OutboxStore,
  parseRetryAfter,
  prepareResend,
} from '../web/citizen/offline/sender.ts';
import type { NewOutboxEntry, OutboxEntry } from '../web/citizen/offline/types.ts';
import { loadConfig } from './config.ts';
import { rowsOf } from './db/sql.ts';
import { openTestDatabase } from './db/testing.ts';
import { type RunningServer, startServer } from './main.ts';
import type { DevSmsChannel } from './modules/notifications/channels.ts';
import { sm3Hex } from './modules/storage/service.ts';

const KAILI_HALL = '522601-zwfw';
/** a window clerk of the 凯里 hall (development header: the server runs on loopback) */
const CLERK = `staff:kaili-window-7;hall=${KAILI_HALL}`;

let server: RunningServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-outbox-'));
  const database = await openTestDatabase();
  const s = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_MAX: '100000',
      JOBS_INTERVAL_MS: '0',
    }),
    { listen: true, database, jobs: false },
  );
  server = {
    ...s,
    close: async () => {
      await s.close();
      await database.close();
    },
  };
});
afterAll(async () => {
  await server?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

class MapStore implements OutboxStore {
  readonly map = new Map<string, OutboxEntry>();
  async get(id: string) {
    const e = this.map.get(id);
    return e ? structuredClone(e) : undefined;
  }
  async put(e: OutboxEntry) {
    this.map.set(e.id, structuredClone(e));
  }
  async all() {
    return [...this.map.values()].map((e) => structuredClone(e));
  }
  value(id: string): OutboxEntry {
    const e = this.map.get(id);
    if (!e) throw new Error(`no entry ${id}`);
    return e;
  }
}

/** Every request the sender made, as `METHOD path`, and what became of it. */
interface Logged {
  call: string;
  key: string | null;
  fate: 'dropped' | 'answer lost' | 'answered' | 'faked';
  status?: number;
}

/**
 * Node's fetch to the real server with `headers` added, after `fate(n, call)` decides what the network
 * does with request n: `drop` (never arrives: throws), `lose` (the server acts, the answer is lost:
 * throws), `pass`, or a Response of its own (a captive portal, an overloaded proxy).
 */
function network(
  headers: Record<string, string>,
  fate: (n: number, call: string) => 'drop' | 'lose' | 'pass' | Response = () => 'pass',
) {
  const log: Logged[] = [];
  let n = 0;
  const fetchLike: FetchLike = async (url, init) => {
    const call = `${init.method} ${new URL(url).pathname}`;
    const key = new Headers(init.headers).get('idempotency-key');
    const decided = fate(n++, call);
    if (decided === 'drop') {
      log.push({ call, key, fate: 'dropped' });
      throw new TypeError('fetch failed (network unreachable)');
    }
    if (decided instanceof Response) {
      log.push({ call, key, fate: 'faked', status: decided.status });
      return decided;
    }
    const res = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...headers },
    });
    if (call === 'POST /api/v1/cases' && res.status === 201) await windowReceives(await res.clone().json());
    if (decided === 'lose') {
      await res.arrayBuffer();
      log.push({ call, key, fate: 'answer lost', status: res.status });
      throw new TypeError('fetch failed (connection reset)');
    }
    log.push({ call, key, fate: 'answered', status: res.status });
    return res;
  };
  return { fetch: fetchLike, log };
}

const received = new Set<string>();
/**
 * What the 凯里 window clerk does when a walk-in case is filed: records each material as received
 * (electronic copy) — custody takes a scan only of a material received (custody.out_of_order otherwise).
 */
async function windowReceives(answer: { case: { number: string; materials: { seq: number }[] } }) {
  const c = answer.case;
  if (received.has(c.number)) return;
  received.add(c.number);
  for (const m of c.materials)
    await server.services.custody.record(
      c.number,
      m.seq,
      { type: 'received', as: 'electronic' },
      {
        actor: { kind: 'staff', id: 'kaili-window-7', hallCode: KAILI_HALL },
        idempotencyKey: `received-${c.number}-${m.seq}`,
      },
    );
}

/** A walk-in application received at the 凯里 window for a resident of 威宁 (decided there). */
function walkIn(name: string, idNumber: string): NewOutboxEntry['body'] {
  return {
    itemCode: '050004001000', // 最低生活保障申请
    applicant: { kind: 'natural_person', name, idNumber },
    channel: 'hall_window',
    intakeHallCode: KAILI_HALL,
    processingMode: 'off_site_intake',
    decidingDivisionCode: '520526',
    delivery: { method: 'pickup', hallCode: KAILI_HALL },
    formData: { familySize: 3, monthlyIncome: 1200 },
  };
}

/** A JPEG-looking photo (the upload checks the leading bytes), different per `tag`. */
function photo(tag: string): Blob {
  return new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), `photo ${tag}`], { type: 'image/jpeg' });
}

function entry(label: string, body: NewOutboxEntry['body'], files: NewOutboxEntry['files'] = []) {
  return newEntry({ label, itemCode: body.itemCode, body, files }, new Date(), () => crypto.randomUUID());
}

/** Cases filed per applicant ID number (they show masked: 5205**********101X — the last four tell them apart). */
async function countCases(idNumbers: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(idNumbers.map((id) => [id, 0]));
  const rows = rowsOf<{ id: string }>(await server.database.db.execute(sql`select id from cases`));
  for (const { id } of rows) {
    const masked = String((await server.services.cases.get(id)).applicant.idNumber ?? '');
    for (const idNumber of idNumbers)
      if (masked.slice(0, 4) === idNumber.slice(0, 4) && masked.slice(-4) === idNumber.slice(-4))
        counts[idNumber] = (counts[idNumber] ?? 0) + 1;
  }
  return counts;
}

/** Flushes until nothing is pending any more (the test's clock jumps over every backoff). */
async function drain(sender: OutboxSender, store: MapStore, clock: { now: number }, rounds = 40) {
  for (let i = 0; i < rounds; i++) {
    await sender.flush();
    const next = await sender.nextDue();
    if (next === undefined) return i + 1;
    clock.now = Math.max(clock.now, next);
  }
  throw new Error(
    `still pending after ${rounds} rounds: ${JSON.stringify([...store.map.values()].map((e) => e.state))}`,
  );
}

describe('outbox sender against the real server', () => {
  it('sends two applications and their photos exactly once through a network that drops every other request and loses answers; a refused one waits without holding them back', async () => {
    const store = new MapStore();
    const ids = [
      syntheticIdNumber('520526', '19700101', '101'),
      syntheticIdNumber('520526', '19700101', '102'),
    ];
    // the refused one is the oldest: it is tried first and must not hold the others back
    const valid = syntheticIdNumber('520526', '19700101', '103');
    const wrongCheck = `${valid.slice(0, 17)}${valid.endsWith('0') ? '1' : '0'}`;
    const bad = entry('最低生活保障申请 · 错号码', walkIn('错号码', wrongCheck));
    await store.put(bad);
    const first = entry('最低生活保障申请 · 张一', walkIn('张一', ids[0]!), [
      { materialSeq: 1, name: '申请书.jpg', type: 'image/jpeg', blob: photo('1-1'), size: 20 },
      { materialSeq: 2, name: '户口簿.jpg', type: 'image/jpeg', blob: photo('1-2'), size: 20 },
    ]);
    const second = entry('最低生活保障申请 · 张二', walkIn('张二', ids[1]!), [
      { materialSeq: 1, name: '申请书.jpg', type: 'image/jpeg', blob: photo('2-1'), size: 20 },
    ]);
    await store.put(first);
    await store.put(second);

    // request 0 dropped, 1 answered but lost, 2 passes, 3 dropped, 4 lost, 5 passes …
    const net = network({ 'x-tongban-actor': CLERK }, (n) => (['drop', 'lose', 'pass'] as const)[n % 3]!);
    const clock = { now: Date.now() };
    const changes: string[] = [];
    const sender = new OutboxSender({
      store,
      fetch: net.fetch,
      baseUrl: server.url,
      now: () => clock.now,
      concurrency: 2,
      onChange: (e) => changes.push(`${e.label.split(' · ')[1]}:${e.state}`),
    });
    const rounds = await drain(sender, store, clock);

    const [b, f, s] = [store.value(bad.id), store.value(first.id), store.value(second.id)];
    expect(b.state).toBe('attention');
    expect(b.error).toMatchObject({ status: 400, field: 'applicant.idNumber' });
    expect(b.caseNumber).toBeUndefined();
    for (const e of [f, s]) {
      expect(e.state, JSON.stringify(e.error)).toBe('sent');
      expect(e.caseNumber).toMatch(/^522601\d{15}$/);
      expect(e.uploaded.sort()).toEqual(e.files.map((_f, i) => i));
      expect(e.attempts).toBeGreaterThan(1); // the network did fail them
    }
    expect(f.caseNumber).not.toBe(s.caseNumber);
    expect(changes).toContain('张一:waiting');
    expect(changes).toContain('张一:sending');
    expect(rounds).toBeGreaterThan(1);
    // the network really lost answers of case submissions after the server had filed them
    expect(
      net.log.some((l) => l.call === 'POST /api/v1/cases' && l.fate === 'answer lost' && l.status === 201),
    ).toBe(true);

    // exactly one case per application, and each photo stored once
    expect(await countCases(ids)).toEqual({ [ids[0]!]: 1, [ids[1]!]: 1 });
    for (const e of [f, s]) {
      const custody = (await server.services.custody.custodyOf(e.caseNumber!)) as unknown as {
        materials: { seq: number; files: unknown[] }[];
      };
      for (const file of e.files)
        expect(custody.materials.find((m) => m.seq === file.materialSeq)?.files, e.label).toHaveLength(1);
    }

    // the refused one is left alone by later flushes (no request at all) …
    const before = net.log.length;
    await sender.flush({ force: true });
    expect(net.log.length).toBe(before);
    // … until the user fixes it and sends it again: now it is filed, once
    const fixedId = valid;
    await store.put(prepareResend(b, { body: walkIn('错号码', fixedId) }, clock.now));
    await drain(sender, store, clock);
    expect(store.value(bad.id).state).toBe('sent');
    expect(await countCases([...ids, fixedId])).toEqual({ [ids[0]!]: 1, [ids[1]!]: 1, [fixedId]: 1 });

    // a sent entry is never sent again
    const sentBefore = net.log.length;
    await sender.send(first.id, { force: true });
    expect(net.log.length).toBe(sentBefore);
    expect(() => prepareResend(store.value(first.id), {}, clock.now)).toThrow(/already sent/);
  });

  it('continues with the photos after a resend and never files the case again', async () => {
    const store = new MapStore();
    const idNumber = syntheticIdNumber('520526', '19700101', '111');
    const e = entry('最低生活保障申请 · 李三', walkIn('李三', idNumber), [
      { materialSeq: 1, name: '申请书.jpg', type: 'image/jpeg', blob: photo('3-1'), size: 20 },
      // not an image although it says so: the server refuses this file
      {
        materialSeq: 2,
        name: '户口簿.jpg',
        type: 'image/jpeg',
        blob: new Blob(['not a jpeg'], { type: 'image/jpeg' }),
        size: 10,
      },
    ]);
    await store.put(e);
    const net = network({ 'x-tongban-actor': CLERK });
    const clock = { now: Date.now() };
    const sender = new OutboxSender({ store, fetch: net.fetch, baseUrl: server.url, now: () => clock.now });
    await drain(sender, store, clock);
    const stuck = store.value(e.id);
    expect(stuck.state).toBe('attention');
    expect(stuck.caseNumber).toMatch(/^522601/);
    expect(stuck.uploaded).toEqual([0]);
    expect(stuck.error?.field).toMatch(/^files\.1/);
    expect(() => prepareResend(stuck, { body: walkIn('李三', idNumber) }, clock.now)).toThrow(
      /already exists/,
    );

    // the user takes a new photo of the second material; the first one is the same Blob as before
    const reread = store.value(e.id);
    const files = [reread.files[0]!, { ...reread.files[1]!, blob: photo('3-2b'), idempotencyKey: undefined }];
    await store.put(prepareResend(reread, { files }, clock.now));
    await drain(sender, store, clock);
    const done = store.value(e.id);
    expect(done.state).toBe('sent');
    expect(done.caseNumber).toBe(stuck.caseNumber);
    expect(net.log.filter((l) => l.call === 'POST /api/v1/cases')).toHaveLength(1);
    expect(net.log.filter((l) => l.call.endsWith('/materials/1/file'))).toHaveLength(1);
    expect(await countCases([idNumber])).toEqual({ [idNumber]: 1 });
  });

  it('treats a captive portal page as offline, honours Retry-After, and backs off exponentially with jitter', async () => {
    const store = new MapStore();
    const idNumber = syntheticIdNumber('520526', '19700101', '121');
    const e = entry('最低生活保障申请 · 王四', walkIn('王四', idNumber));
    await store.put(e);
    const portal = () =>
      new Response('<html><title>请登录 Wi-Fi</title></html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      });
    const busy = () =>
      new Response(JSON.stringify({ error: { code: 'http.503', message: 'busy' } }), {
        status: 503,
        headers: { 'content-type': 'application/json', 'retry-after': '7' },
      });
    const script: ('portal' | 'drop' | 'busy' | 'pass')[] = ['portal', 'drop', 'drop', 'busy'];
    const net = network({ 'x-tongban-actor': CLERK }, (n) => {
      const step = script[n] ?? 'pass';
      return step === 'portal' ? portal() : step === 'busy' ? busy() : step;
    });
    const clock = { now: 1_800_000_000_000 };
    const reach: boolean[] = [];
    const sender = new OutboxSender({
      store,
      fetch: net.fetch,
      baseUrl: server.url,
      now: () => clock.now,
      random: () => 0.5,
      onReachability: (ok) => reach.push(ok),
    });

    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await sender.send(e.id);
      const w = store.value(e.id);
      expect(w.state, `try ${i}`).toBe('waiting');
      delays.push(w.nextAttemptAt! - clock.now);
      // not due yet: a flush leaves it alone
      await sender.flush();
      expect(net.log).toHaveLength(i + 1);
      clock.now = w.nextAttemptAt!;
    }
    // portal page, then two network errors: 2 s, 4 s, 8 s ceilings with half jitter; then Retry-After: 7
    expect(delays).toEqual([1500, 3000, 6000, 7000]);
    expect(store.value(e.id).error).toMatchObject({ status: 503, code: 'http.503' });
    expect(reach.slice(0, 3)).toEqual([false, false, false]);
    await sender.send(e.id);
    expect(store.value(e.id).state).toBe('sent');
    expect(reach.at(-1)).toBe(true);
    expect(await countCases([idNumber])).toEqual({ [idNumber]: 1 });

    expect(backoffDelay(1, 0)).toBe(1000);
    expect(backoffDelay(1, 0.999)).toBeLessThanOrEqual(2000);
    expect(backoffDelay(30, 1)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(backoffDelay(30, 0)).toBe(DEFAULT_BACKOFF.maxMs / 2);
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('never runs two tries of one entry at once, in one page or in two tabs sharing a lock', async () => {
    const store = new MapStore();
    const idNumber = syntheticIdNumber('520526', '19700101', '131');
    const e = entry('最低生活保障申请 · 赵五', walkIn('赵五', idNumber));
    await store.put(e);
    const net = network({ 'x-tongban-actor': CLERK });
    // navigator.locks.request(name, { ifAvailable: true }) semantics
    const held = new Set<string>();
    const lock = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
      if (held.has(name)) return undefined;
      held.add(name);
      try {
        return await fn();
      } finally {
        held.delete(name);
      }
    };
    const tabA = new OutboxSender({ store, fetch: net.fetch, baseUrl: server.url, lock });
    const tabB = new OutboxSender({ store, fetch: net.fetch, baseUrl: server.url, lock });
    await Promise.all([tabA.send(e.id), tabA.send(e.id), tabB.send(e.id), tabA.flush(), tabB.flush()]);
    expect(store.value(e.id).state).toBe('sent');
    expect(net.log.filter((l) => l.call === 'POST /api/v1/cases')).toHaveLength(1);
    expect(store.value(e.id).attempts).toBe(1);
  });

  it('records a village agent’s authorization first and files the case under it (帮办代办)', async () => {
    const { identity } = server.services;
    const idNumber = syntheticIdNumber('520526', '19700101', '141');
    const phone = '13900000141';
    await identity.registerResident({ name: '陈六', idNumber, phone, password: 'Outbox-Passw0rd!2026' });
    const agentAccount = await identity.createStaff({
      name: '村代办',
      username: 'outbox-agent',
      password: 'Outbox-Passw0rd!2026',
      hallCode: KAILI_HALL,
    });
    await identity.grants.grantFromCli(
      {
        accountId: agentAccount.id,
        role: 'village_agent',
        scope: { kind: 'hall', value: KAILI_HALL },
        validUntil: new Date(Date.now() + 365 * 86_400_000),
        reason: '帮办',
      } as never,
      'test',
    );
    const session = await identity.loginWithPassword(
      { username: 'outbox-agent', password: 'Outbox-Passw0rd!2026' },
      '10.9.0.1',
    );
    const token = await identity.createApiToken(session.principal, {
      name: 'outbox agent',
      scopes: ['cases:read', 'cases:write', 'agent_authorizations:read', 'agent_authorizations:write'],
      expiresInDays: 1,
    });

    const scanBytes = new Uint8Array([
      0xff,
      0xd8,
      0xff,
      0xe0,
      ...new TextEncoder().encode('signed form 陈六'),
    ]);
    const clientRef = crypto.randomUUID();
    const store = new MapStore();
    const body = {
      ...walkIn('陈六', idNumber),
      agent: { kind: 'village_agent' as const, name: '村代办', authorizationRef: 'pending' },
    };
    const e = newEntry(
      {
        label: '最低生活保障申请 · 陈六（代办）',
        itemCode: body.itemCode,
        body,
        files: [],
        authorization: {
          clientRef,
          body: {
            resident: { idNumber },
            itemCodes: [body.itemCode],
            validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
            evidence: { kind: 'signed_form', sm3: sm3Hex(Buffer.from(scanBytes)), reference: 'WT-2026-001' },
          },
          scan: {
            name: '委托书.jpg',
            type: 'image/jpeg',
            blob: new Blob([scanBytes], { type: 'image/jpeg' }),
          },
        },
      },
      new Date(),
      () => crypto.randomUUID(),
    );
    await store.put(e);
    // requests never arrive every other time (answers are not lost here: see the report on
    // POST /agent-authorizations idempotency)
    const net = network({ authorization: `Bearer ${token.token}` }, (n) => (n % 2 === 0 ? 'drop' : 'pass'));
    const clock = { now: Date.now() };
    const sender = new OutboxSender({ store, fetch: net.fetch, baseUrl: server.url, now: () => clock.now });
    await drain(sender, store, clock);
    const done = store.value(e.id);
    expect(done.state, JSON.stringify(done.error)).toBe('sent');
    expect(done.authorization?.serverId).toBeTruthy();
    expect(done.authorization?.scanUploaded).toBe(true);
    expect(net.log.filter((l) => l.fate === 'answered').map((l) => l.call)).toEqual([
      'POST /api/v1/agent-authorizations',
      `PUT /api/v1/agent-authorizations/${done.authorization?.serverId}/signed-form`,
      'POST /api/v1/cases',
    ]);
    expect(net.log.find((l) => l.call === 'POST /api/v1/agent-authorizations')?.key).toBe(clientRef);
    const filed = await server.services.cases.get(done.caseNumber!);
    expect(filed.agent).toMatchObject({
      kind: 'village_agent',
      authorizationRef: done.authorization?.serverId,
    });
  });
  it('sends under a resident’s cookie session with the page’s one CSRF token: renewed elsewhere, it renews once and files once; headers that cannot be made leave the entry waiting', async () => {
    const base = server.url;
    const phone = '13900000151';
    const idNumber = syntheticIdNumber('520102', '19800101', '151');
    const json = { 'content-type': 'application/json' };
    const sendCode = await fetch(`${base}/api/v1/auth/sms-code`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ phone, purpose: 'register' }),
    });
    expect(sendCode.status).toBe(200);
    const sms = server.services.notifications.channel('sms') as DevSmsChannel;
    const code = /(\d{6})/.exec([...sms.sent].reverse().find((m) => m.to === phone)?.text ?? '')?.[1];
    // registration signs her in: the cookie session of the citizen app, and its CSRF token
    const reg = await fetch(`${base}/api/v1/auth/residents`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: '周七', idNumber, phone, code }),
    });
    expect(reg.status).toBe(201);
    const cookie = reg.headers.getSetCookie()[0]!.split(';')[0]!;
    const registered = (await reg.json()) as { csrfToken: string };
    /** the page's one CSRF source (api/account.ts in the app) */
    const page = { token: registered.csrfToken };
    const stale = page.token;
    // another tab asks for a token: the session's token is now that tab's, the page's is stale
    expect((await fetch(`${base}/api/v1/auth/csrf-token`, { headers: { cookie } })).status).toBe(200);

    const calls: string[] = [];
    const viaCookie: FetchLike = (url, init) => {
      calls.push(`${init.method} ${new URL(url).pathname}`);
      return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), cookie } });
    };
    const refused: (string | undefined)[] = [];
    const store = new MapStore();
    const sender = new OutboxSender({
      store,
      fetch: viaCookie,
      baseUrl: base,
      headers: () => ({ 'x-csrf-token': page.token }),
      refreshAuth: async (used) => {
        refused.push(used['x-csrf-token']);
        const r = await fetch(`${base}/api/v1/auth/csrf-token`, { headers: { cookie } });
        page.token = ((await r.json()) as { csrfToken: string }).csrfToken;
        return true;
      },
    });
    const online: NewOutboxEntry['body'] = {
      itemCode: '200002002000', // 社会保障卡补领, 全程网办
      applicant: { kind: 'natural_person', name: '周七', idNumber, phone },
      channel: 'mobile',
      processingMode: 'online',
      decidingDivisionCode: '520102',
      delivery: { method: 'pickup', hallCode: '520102-zwfw' },
      formData: { reason: 'damaged', contactPhone: phone },
    };
    const e = entry('社会保障卡补领 · 周七', online, [
      { materialSeq: 2, name: '证件照.jpg', type: 'image/jpeg', blob: photo('7-2'), size: 20 },
    ]);
    await store.put(e);
    await sender.send(e.id);
    const done = store.value(e.id);
    expect(done.state, JSON.stringify(done.error)).toBe('sent');
    // refused once with the stale token, renewed once, then the case and its photo went through
    expect(refused).toEqual([stale]);
    expect(calls).toEqual([
      'POST /api/v1/cases',
      'POST /api/v1/cases',
      `PUT /api/v1/cases/${done.caseNumber}/materials/2/file`,
    ]);
    expect((await server.services.cases.applicantCases(idNumber)).map((c) => c.number)).toEqual([
      done.caseNumber,
    ]);
    // filed under her account (the server's record, not the body): 我的办件 of her session lists it
    const mine = await fetch(`${base}/api/v1/me/cases`, { headers: { cookie } });
    const items = ((await mine.json()) as { items: { number: string }[] }).items;
    expect(items.map((c) => c.number)).toEqual([done.caseNumber]);

    // headers that cannot be made (no answer while fetching a token): the entry waits, it is not stuck
    const failing = new OutboxSender({
      store,
      fetch: viaCookie,
      baseUrl: base,
      headers: () => {
        throw new TypeError('fetch failed (no answer for the CSRF token)');
      },
    });
    const later = entry('社会保障卡补领 · 周七 (2)', online);
    await store.put(later);
    const before = calls.length;
    await failing.send(later.id);
    expect(store.value(later.id)).toMatchObject({ state: 'waiting', error: { code: 'network', status: 0 } });
    expect(calls.length).toBe(before);
  });
});

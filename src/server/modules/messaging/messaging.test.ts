import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { kailiToWeiningApplication } from '../../../testing/applications.ts';
import { loadConfig } from '../../config.ts';
import type { Database } from '../../db/index.ts';
import { openSecondHandle, openTestDatabase } from '../../db/testing.ts';
import { type RunningServer, startServer } from '../../main.ts';

/**
 * 办件沟通 end to end: two tongban nodes (A and B) on ONE database — PostgreSQL with DATABASE_URL (two
 * pools, two sets of LISTEN connections), else one embedded PGlite — real staff accounts signed in with a
 * password (session cookie + CSRF token), a case received at the 凯里 hall (522601-zwfw) and forwarded to
 * the 威宁 (520526) civil affairs bureau. A WebSocket (the `ws` client) connected to node B hears what is
 * posted through node A.
 */
const PASSWORD = 'Messaging-Passw0rd!26';
const KAILI_HALL = '522601-zwfw';

let database: Database;
let second: Database;
let dataDir: string;
let A: RunningServer;
let B: RunningServer;

interface Staff {
  id: string;
  cookie: string;
  csrf: string;
}
const who = {} as Record<'kaili' | 'weining' | 'nanming' | 'police' | 'weiningAdmin', Staff>;
const dept = {} as Record<'weining' | 'nanming' | 'weiningPolice', string>;
let caseNumber = '';
let caseId = '';

async function staffAccount(
  name: string,
  bind: { hallCode?: string; departmentId?: string },
  grant: { role: string; kind: 'division' | 'hall' | 'department'; value: string },
): Promise<Staff> {
  const { identity } = A.services;
  const account = await identity.createStaff({
    name,
    username: `msg-${randomUUID().slice(0, 8)}`,
    password: PASSWORD,
    ...bind,
  });
  await identity.grants.grantFromCli(
    {
      accountId: account.id,
      role: grant.role,
      scope: { kind: grant.kind, value: grant.value },
      validUntil: new Date(Date.now() + 30 * 86_400_000),
      reason: '办件沟通测试',
    } as never,
    'messaging-test',
  );
  const session = await identity.loginWithPassword(
    { username: account.username!, password: PASSWORD },
    `10.8.${Object.keys(who).length}.1`,
  );
  return { id: account.id, cookie: `tongban_session=${session.sessionId}`, csrf: session.csrfToken };
}

async function call(
  node: RunningServer,
  as: Staff,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  key: string = randomUUID(),
) {
  const res = await node.app.inject({
    method,
    url,
    headers: {
      cookie: as.cookie,
      ...(method === 'POST' ? { 'x-csrf-token': as.csrf, 'idempotency-key': key } : {}),
    },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, body: res.json() };
}

/** Opens a WebSocket to a node's live endpoint and collects its frames. */
async function connect(node: RunningServer, as: Staff | null, origin: string | null = node.url) {
  const frames: Record<string, unknown>[] = [];
  const ws = new WebSocket(`${node.url.replace('http', 'ws')}/api/v1/messaging/live`, {
    headers: { ...(as ? { cookie: as.cookie } : {}), ...(origin ? { origin } : {}) },
  });
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const next = async (type: string, timeoutMs = 5000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = frames.findIndex((f) => f.type === type);
      if (i >= 0) return frames.splice(i, 1)[0]!;
      if (Date.now() > until) throw new Error(`no "${type}" frame; got ${JSON.stringify(frames)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { ws, frames, next, send: (f: unknown) => ws.send(JSON.stringify(f)) };
}

beforeAll(async () => {
  database = await openTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-msg-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '100000',
    JOBS_INTERVAL_MS: '0',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
  });
  A = await startServer(config, { database, jobs: false });
  second = await openSecondHandle(database);
  B = await startServer(config, { database: second, jobs: false });
  const { departments } = A.services;
  dept.weining = (await departments.findDepartment('520526', 'civil_affairs'))!.id;
  dept.nanming = (await departments.findDepartment('520102', 'civil_affairs'))!.id;
  dept.weiningPolice = (await departments.findDepartment('520526', 'public_security'))!.id;
  who.kaili = await staffAccount(
    '凯里收件员',
    { hallCode: KAILI_HALL },
    { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
  );
  who.weining = await staffAccount(
    '威宁受理员',
    { departmentId: dept.weining },
    { role: 'acceptance_officer', kind: 'department', value: dept.weining },
  );
  who.nanming = await staffAccount(
    '南明受理员',
    { departmentId: dept.nanming },
    { role: 'acceptance_officer', kind: 'department', value: dept.nanming },
  );
  who.police = await staffAccount(
    '威宁公安户籍员',
    { departmentId: dept.weiningPolice },
    { role: 'acceptance_officer', kind: 'department', value: dept.weiningPolice },
  );
  who.weiningAdmin = await staffAccount(
    '威宁县级管理员',
    { departmentId: dept.weining },
    { role: 'county_admin', kind: 'division', value: '520526' },
  );
  const filed = await call(A, who.kaili, 'POST', '/api/v1/cases', kailiToWeiningApplication());
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
  caseNumber = filed.body.case.number;
  caseId = filed.body.case.id;
  const fwd = await call(A, who.kaili, 'POST', `/api/v1/cases/${caseNumber}/commands`, { type: 'forward' });
  expect(fwd.status, JSON.stringify(fwd.body)).toBe(200);
}, 120_000);

afterAll(async () => {
  await B?.close();
  await second?.close();
  await A?.close();
  await database?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const threads = (as: Staff, node = A) => call(node, as, 'GET', `/api/v1/cases/${caseNumber}/threads`);
const messagesUrl = (threadId: string) => `/api/v1/cases/${caseNumber}/threads/${threadId}/messages`;

describe('办件沟通 between the 凯里 intake hall and the 威宁 competent department', () => {
  it('lists the general thread (id = case id) before its first message, empty', async () => {
    const r = await threads(who.kaili);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.items).toEqual([
      expect.objectContaining({ id: caseId, kind: 'general', messageCount: 0, unread: 0, createdAt: null }),
    ]);
  });

  it('posts once per idempotency key, mentions notify, unread counts go up and down', async () => {
    const key = randomUUID();
    const body = {
      text: '  请核对申请人户籍信息，身份证号 520526198503120020 ，电话 13800138123。 ',
      mentions: [{ kind: 'staff', id: who.weining.id }],
    };
    const first = await call(A, who.kaili, 'POST', messagesUrl(caseId), body, key);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await call(A, who.kaili, 'POST', messagesUrl(caseId), body, key);
    expect(again.status).toBe(201);
    expect(again.body.message.id).toBe(first.body.message.id);
    const m = first.body.message;
    expect(m).toMatchObject({ seq: 1, threadId: caseId, mentions: [{ kind: 'staff', id: who.weining.id }] });
    // trimmed, full identifiers masked
    expect(m.text).toBe('请核对申请人户籍信息，身份证号 5205**********0020 ，电话 138****8123。');
    expect(m.author).toMatchObject({ accountId: who.kaili.id, name: '凯里收件员', hallCode: KAILI_HALL });
    // the author has read their own message
    expect(first.body.thread).toMatchObject({ messageCount: 1, unread: 0, lastReadSeq: 1 });

    // the competent department's officer: one unread, mentioning them — in the thread list and the badge
    const w = await threads(who.weining);
    expect(w.body.items[0]).toMatchObject({ id: caseId, messageCount: 1, unread: 1, mentionsUnread: 1 });
    const badge = await call(A, who.weining, 'GET', '/api/v1/messaging/unread');
    expect(badge.body).toMatchObject({ total: 1, mentions: 1 });
    expect(badge.body.items.map((t: { id: string }) => t.id)).toEqual([caseId]);

    // the mention becomes a notification in their own inbox (outbox → notifications handler)
    await A.jobs.runOnce();
    const inbox = await A.services.notifications.inboxOf({ kind: 'staff', id: who.weining.id });
    const note = inbox.items.find((i) => i.topic === 'case_message.mentioned');
    expect(note, JSON.stringify(inbox.items)).toBeDefined();
    expect(note!.subject).toBe(`凯里收件员 在办件沟通中提到了您：${caseNumber}`);
    expect(note!.body).toContain('5205**********0020');

    // reads, marks read: 0 unread; the reply makes 1 unread for the intake clerk
    const list = await call(A, who.weining, 'GET', messagesUrl(caseId));
    expect(list.body.items.map((x: { seq: number }) => x.seq)).toEqual([1]);
    const read = await call(A, who.weining, 'POST', `/api/v1/cases/${caseNumber}/threads/${caseId}/read`, {
      seq: 1,
    });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body).toMatchObject({ unread: 0, mentionsUnread: 0, lastReadSeq: 1 });
    expect((await call(A, who.weining, 'GET', '/api/v1/messaging/unread')).body).toMatchObject({
      total: 0,
      mentions: 0,
    });
    const reply = await call(A, who.weining, 'POST', messagesUrl(caseId), { text: '已核对，户籍在威宁。' });
    expect(reply.status).toBe(201);
    expect(reply.body.message.seq).toBe(2);
    expect((await threads(who.kaili)).body.items[0]).toMatchObject({ unread: 1, mentionsUnread: 0 });
    // the intake hall follows the thread: the reply is in the clerk's badge
    expect((await call(A, who.kaili, 'GET', '/api/v1/messaging/unread')).body).toMatchObject({ total: 1 });
    // a cursor never moves back
    const back = await call(A, who.kaili, 'POST', `/api/v1/cases/${caseNumber}/threads/${caseId}/read`, {
      seq: 2,
    });
    expect(back.body.unread).toBe(0);
    const back2 = await call(A, who.kaili, 'POST', `/api/v1/cases/${caseNumber}/threads/${caseId}/read`, {
      seq: 0,
    });
    expect(back2.body).toMatchObject({ unread: 0, lastReadSeq: 2 });
  });

  it('pages messages by seq (keyset)', async () => {
    for (let i = 0; i < 3; i++)
      await call(A, who.kaili, 'POST', messagesUrl(caseId), { text: `补充说明 ${i}` });
    const newest = await call(A, who.kaili, 'GET', `${messagesUrl(caseId)}?limit=2`);
    expect(newest.body.items.map((x: { seq: number }) => x.seq)).toEqual([4, 5]);
    expect(newest.body.olderBefore).toBe(4);
    const older = await call(A, who.kaili, 'GET', `${messagesUrl(caseId)}?limit=2&before=4`);
    expect(older.body.items.map((x: { seq: number }) => x.seq)).toEqual([2, 3]);
    const oldest = await call(A, who.kaili, 'GET', `${messagesUrl(caseId)}?limit=2&before=2`);
    expect(oldest.body).toMatchObject({ olderBefore: null });
    expect(oldest.body.items.map((x: { seq: number }) => x.seq)).toEqual([1]);
    const after = await call(A, who.kaili, 'GET', `${messagesUrl(caseId)}?after=3`);
    expect(after.body.items.map((x: { seq: number }) => x.seq)).toEqual([4, 5]);
  });

  it("offers for @mention the staff who may read the thread, the case's departments and halls — not outsiders", async () => {
    const r = await call(A, who.weining, 'GET', `/api/v1/cases/${caseNumber}/threads/${caseId}/mentionable`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const ids = r.body.staff.map((s: { accountId: string }) => s.accountId);
    // the 凯里 clerk (bound to the intake hall) and the county admin over 威宁 read the case
    expect(ids).toContain(who.kaili.id);
    expect(r.body.staff.find((s: { accountId: string }) => s.accountId === who.kaili.id)).toEqual({
      accountId: who.kaili.id,
      name: '凯里收件员',
      departmentId: null,
      hallCode: KAILI_HALL,
    });
    // not the caller, not another county's officer, not a department not consulted
    expect(ids).not.toContain(who.weining.id);
    expect(ids).not.toContain(who.nanming.id);
    expect(ids).not.toContain(who.police.id);
    expect(r.body.departments).toContainEqual({ id: dept.weining, consulted: false });
    expect(r.body.departments.map((d: { id: string }) => d.id)).not.toContain(dept.nanming);
    expect(r.body.halls).toContainEqual({ code: KAILI_HALL });
    const hidden = await call(
      A,
      who.nanming,
      'GET',
      `/api/v1/cases/${caseNumber}/threads/${caseId}/mentionable`,
    );
    expect([hidden.status, hidden.body.error.code]).toEqual([404, 'case.not_found']);
  });

  it('refuses empty, too long and unreachable mentions with the field named, posting nothing', async () => {
    const before = (await threads(who.kaili)).body.items[0].messageCount;
    const empty = await call(A, who.kaili, 'POST', messagesUrl(caseId), { text: '   ' });
    expect([empty.status, empty.body.error.code, empty.body.error.field]).toEqual([
      400,
      'case_message.text_empty',
      'text',
    ]);
    const long = await call(A, who.kaili, 'POST', messagesUrl(caseId), { text: '长'.repeat(2001) });
    expect([long.status, long.body.error.code]).toEqual([400, 'case_message.text_too_long']);
    const outsider = await call(A, who.kaili, 'POST', messagesUrl(caseId), {
      text: '请南明协助',
      mentions: [{ kind: 'staff', id: who.nanming.id }],
    });
    expect([outsider.status, outsider.body.error.code, outsider.body.error.field]).toEqual([
      400,
      'case_message.mention_invalid',
      'mentions[0]',
    ]);
    const otherDept = await call(A, who.kaili, 'POST', messagesUrl(caseId), {
      text: '请南明协助',
      mentions: [{ kind: 'department', id: dept.nanming }],
    });
    expect(otherDept.body.error?.field).toBe('mentions[0]');
    expect((await threads(who.kaili)).body.items[0].messageCount).toBe(before);
  });

  it('hides the case’s threads from a third county’s staff (404) and from residents of the socket', async () => {
    expect((await threads(who.nanming)).status).toBe(404);
    expect((await threads(who.nanming)).body.error.code).toBe('case.not_found');
    expect((await call(A, who.nanming, 'GET', messagesUrl(caseId))).status).toBe(404);
    const post = await call(A, who.nanming, 'POST', messagesUrl(caseId), { text: '我也看看' });
    expect([post.status, post.body.error.code]).toEqual([404, 'case.not_found']);
    const read = await call(A, who.nanming, 'POST', `/api/v1/cases/${caseNumber}/threads/${caseId}/read`, {
      seq: 1,
    });
    expect(read.status).toBe(404);
    expect((await call(A, who.nanming, 'GET', '/api/v1/messaging/unread')).body).toMatchObject({
      total: 0,
      items: [],
    });
  });

  it('lets the competent department consult a third department on one topic thread only', async () => {
    const topic = await call(A, who.weining, 'POST', `/api/v1/cases/${caseNumber}/threads`, {
      subject: '户籍核查',
    });
    expect(topic.status, JSON.stringify(topic.body)).toBe(201);
    const topicId = topic.body.id;
    // before being consulted, the 威宁 police officer sees nothing of the case
    expect((await threads(who.police)).status).toBe(404);
    // a county administrator oversees the case but does not handle it: may not consult
    const admin = await call(
      A,
      who.weiningAdmin,
      'POST',
      `/api/v1/cases/${caseNumber}/threads/${topicId}/departments`,
      {
        departmentId: dept.weiningPolice,
        reason: '核查户籍',
      },
    );
    expect([admin.status, admin.body.error.code]).toEqual([403, 'case_thread.consult_forbidden']);
    const consult = await call(
      A,
      who.weining,
      'POST',
      `/api/v1/cases/${caseNumber}/threads/${topicId}/departments`,
      {
        departmentId: dept.weiningPolice,
        reason: '核查户籍',
      },
    );
    expect(consult.status, JSON.stringify(consult.body)).toBe(200);
    expect(consult.body.consultedDepartments).toEqual([
      expect.objectContaining({
        departmentId: dept.weiningPolice,
        reason: '核查户籍',
        addedByAccountId: who.weining.id,
      }),
    ]);
    // now the police officer lists exactly that thread, posts there, and the department is mentionable
    const seen = await threads(who.police);
    expect(seen.status).toBe(200);
    expect(seen.body.items.map((t: { id: string }) => t.id)).toEqual([topicId]);
    expect((await call(A, who.police, 'GET', messagesUrl(caseId))).body.error.code).toBe(
      'case_thread.not_found',
    );
    expect((await call(A, who.police, 'GET', `/api/v1/cases/${caseNumber}`)).status).toBe(404);
    const answer = await call(A, who.police, 'POST', messagesUrl(topicId), {
      text: '户籍已核实。',
      mentions: [{ kind: 'department', id: dept.weining }],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const mention = await call(A, who.weining, 'POST', messagesUrl(topicId), {
      text: '收到，谢谢。',
      mentions: [
        { kind: 'department', id: dept.weiningPolice },
        { kind: 'staff', id: who.police.id },
      ],
    });
    expect(mention.status, JSON.stringify(mention.body)).toBe(201);
    expect((await threads(who.police)).body.items[0]).toMatchObject({ unread: 1, mentionsUnread: 1 });
    // the consulted department's inbox hears its mention too
    await A.jobs.runOnce();
    const inbox = await A.services.notifications.inboxOf({ kind: 'department', id: dept.weiningPolice });
    expect(inbox.items.some((i) => i.topic === 'case_message.mentioned' && i.body.includes('户籍核查'))).toBe(
      true,
    );
  });
});

describe('live push over WebSocket across two nodes (LISTEN/NOTIFY)', () => {
  it('delivers a message posted through node A to a socket on node B, with the reader’s unread counts', async () => {
    const live = await connect(B, who.weining);
    live.send({ type: 'subscribe', case: caseNumber });
    const sub = await live.next('subscribed');
    expect(sub).toMatchObject({ caseId, caseNumber });
    const unreadBefore = (await threads(who.weining)).body.items[0].unread;
    const posted = await call(A, who.kaili, 'POST', messagesUrl(caseId), {
      text: '原件已寄出，请查收。',
      mentions: [{ kind: 'staff', id: who.weining.id }],
    });
    expect(posted.status).toBe(201);
    const frame = (await live.next('message')) as {
      message: { id: string; seq: number; text: string };
      thread: { unread: number; mentionsUnread: number };
    };
    expect(frame).toMatchObject({ caseId, caseNumber, threadId: caseId });
    expect(frame.message).toMatchObject({ id: posted.body.message.id, text: '原件已寄出，请查收。' });
    expect(frame.thread).toMatchObject({ unread: unreadBefore + 1 });
    expect(frame.thread.mentionsUnread).toBeGreaterThanOrEqual(1);
    // marking read through node A moves this account's counts on node B
    await call(A, who.weining, 'POST', `/api/v1/cases/${caseNumber}/threads/${caseId}/read`, {
      seq: frame.message.seq,
    });
    expect(((await live.next('thread')) as { thread: unknown }).thread).toMatchObject({
      unread: 0,
      mentionsUnread: 0,
    });
    // a case transition committed through node A is pushed too (the inbox refreshes)
    const accepted = await call(A, who.weining, 'POST', `/api/v1/cases/${caseNumber}/commands`, {
      type: 'accept',
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(await live.next('case')).toMatchObject({
      caseId,
      status: 'accepted',
      version: accepted.body.case.version,
    });
    live.ws.close();
  });

  it('refuses a third county’s subscription, anonymous and cross-site connections', async () => {
    const live = await connect(B, who.nanming);
    live.send({ type: 'subscribe', case: caseNumber });
    expect(await live.next('error')).toMatchObject({ code: 'case.not_found', case: caseNumber });
    await call(A, who.kaili, 'POST', messagesUrl(caseId), { text: '这条南明看不到。' });
    live.send({ type: 'ping' });
    await live.next('pong');
    await new Promise((r) => setTimeout(r, 200));
    expect(live.frames.filter((f) => f.type === 'message')).toEqual([]);
    live.ws.close();
    await expect(connect(B, null)).rejects.toThrow('HTTP 401');
    await expect(connect(B, who.weining, 'https://evil.example')).rejects.toThrow('HTTP 403');
    await expect(connect(B, who.weining, null)).rejects.toThrow('HTTP 403');
    const plain = await B.app.inject({
      method: 'GET',
      url: '/api/v1/messaging/live',
      headers: { cookie: who.kaili.cookie, origin: B.url, host: new URL(B.url).host },
    });
    expect([plain.statusCode, plain.json().error.code]).toEqual([426, 'live.upgrade_required']);
  });
});

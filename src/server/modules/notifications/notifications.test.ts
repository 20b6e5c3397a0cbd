import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../testing/app-error.ts';
import type { Database } from '../../db/index.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { OutboxService } from '../outbox/service.ts';
import { PiiVault } from '../pii/service.ts';
import { type Channel, DevSmsChannel, HttpSmsChannel, SmtpEmailChannel } from './channels.ts';
import { loadNotificationsConfig } from './config.ts';
import { NotificationsRepository } from './repository.ts';
import {
  DEFAULT_RETRY_DELAYS_MS,
  NotificationsService,
  type NotificationsServiceOptions,
} from './service.ts';
import {
  browserSubscription,
  parseMail,
  startHttpServer,
  startSmtpServer,
  verifyVapid,
} from './test-support.ts';

const config = loadNotificationsConfig({});
let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
  // Works around a race in openTestDatabase().close() on PostgreSQL, which the concurrent-sender test
  // makes likely (it leaves up to 10 idle pooled connections): pool.end() resolves before the idle
  // connections have closed, the DROP DATABASE … WITH (FORCE) that follows terminates them (57P01), and
  // the pool re-emits that as an 'error' event nobody listens to. Query errors still reject their promises.
  const pool = (database.db as unknown as { $client?: pg.Pool }).$client;
  if (database.kind === 'postgres' && pool)
    pool.on('error', (e: Error & { code?: string }) => {
      if (e.code !== '57P01') throw e;
    });
});
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await database?.close();
});

interface Env {
  database: Database;
  outbox: OutboxService;
  notifications: NotificationsService;
  repo: NotificationsRepository;
}

/**
 * The file's database with this module's tables emptied (so one test's due messages never reach
 * another test's sender), the outbox, and a notifications service subscribed to it.
 */
/** The installation's PII vault, shared by every notifications service of this file (like nodes sharing keys). */
const vault = PiiVault.ephemeral();

async function setup(options: NotificationsServiceOptions = {}): Promise<Env> {
  await database.db.execute(sql`truncate notification_messages, push_subscriptions`);
  const outbox = new OutboxService(database.db);
  const notifications = new NotificationsService(database.db, { config, vault, ...options });
  cleanups.push(() => notifications.close());
  outbox.subscribe(notifications.handler);
  return { database, outbox, notifications, repo: new NotificationsRepository(database.db) };
}

function casePayload(over: Record<string, unknown> = {}) {
  const caseId = randomUUID();
  return {
    caseId,
    caseNumber: '520102-20260302-0042',
    itemCode: '11520000MB1234567X4000117001000',
    itemName: '居民身份证换领',
    status: 'accepted',
    applicant: { name: '王芳', phone: '13812345678', email: 'wang.fang@example.cn', accountId: 'acc-wang' },
    competentDepartmentId: 'dep-gongan-520102',
    intakeHallCode: '520111-zwfw',
    deadline: '2026-03-20',
    ...over,
  };
}

/** Appends one event in its own transaction (as the case module will) and dispatches the outbox. */
async function emit(env: Env, topic: string, payload: Record<string, unknown>): Promise<void> {
  await env.database.db.transaction((tx) =>
    env.outbox.append(tx, [{ topic, aggregateType: 'case', aggregateId: String(payload.caseId), payload }]),
  );
  await env.outbox.dispatch();
}

const count = (rows: { channel: string }[]) =>
  rows.reduce<Record<string, number>>((acc, r) => {
    acc[r.channel] = (acc[r.channel] ?? 0) + 1;
    return acc;
  }, {});

describe('outbox handler: events become messages, idempotently', () => {
  it('makes exactly one message per recipient and channel, even when the event is dispatched and handled twice', async () => {
    const env = await setup({ channels: { sms: new DevSmsChannel() } });
    const sub = browserSubscription('https://push.example.invalid/sub/1');
    await env.notifications.subscribePush('acc-wang', sub);
    const payload = casePayload();
    await emit(env, 'case.forwarded', payload);
    expect(await env.outbox.dispatch()).toBe(0); // already dispatched: nothing happens
    // a redelivery of the same event (e.g. a second handler run after a crash) creates nothing new
    const [event] = await env.outbox.eventsOf('case', payload.caseId);
    await env.database.db.transaction((tx) => env.notifications.handler(tx, event!));
    await env.database.db.transaction((tx) => env.notifications.handler(tx, event!));

    const messages = await env.notifications.messagesOfCase(payload.caseId);
    expect(count(messages)).toEqual({ inbox: 2, sms: 1, email: 1, web_push: 1 });
    const byRecipient = messages.map((m) => `${m.recipient} ${m.channel}`).sort();
    expect(byRecipient).toEqual([
      'applicant:acc-wang email',
      'applicant:acc-wang inbox',
      'applicant:acc-wang sms',
      'applicant:acc-wang web_push',
      'department:dep-gongan-520102 inbox',
    ]);
    const staff = messages.find((m) => m.recipient.startsWith('department:'))!;
    expect(staff).toMatchObject({ templateKey: 'staff.forwarded', status: 'delivered', locale: 'zh-CN' });
    expect(staff.body).toContain('请于 2026-03-20 前处理');
    const sms = messages.find((m) => m.channel === 'sms')!;
    expect(sms).toMatchObject({ status: 'created', attempts: 0, address: '138****5678' });
    expect(sms.body).toMatch(
      /^【贵州通办】您的办件 520102-20260302-0042（居民身份证换领）已转送审批部门办理/,
    );
  });

  it('writes in the applicant language, sends only over the channels the applicant has, and keys the inbox by case without an account', async () => {
    const env = await setup();
    const payload = casePayload({
      locale: 'en',
      applicant: { name: 'Li Lei', phone: '13900001111' },
      competentDepartmentId: undefined,
    });
    await emit(env, 'case.accepted', payload);
    const messages = await env.notifications.messagesOfCase(payload.caseId);
    expect(count(messages)).toEqual({ inbox: 1, sms: 1 });
    expect(messages.every((m) => m.recipient === `applicant:case:${payload.caseId}`)).toBe(true);
    expect(messages[0]!.subject).toBe('Application accepted');
    const inbox = await env.notifications.inboxOf(`applicant:case:${payload.caseId}`);
    expect(inbox.items[0]!.body).toContain('The promised decision date is 2026-03-20');
  });

  it('understands topics named by the command (case.accept, case.request_supplement) and null fields', async () => {
    const env = await setup();
    const payload = casePayload({
      competentDepartmentId: null,
      intakeHallCode: null,
      pickupHallCode: undefined,
      applicant: { name: '', accountId: 'acc-wang' },
    });
    await emit(env, 'case.accept', payload);
    await emit(env, 'case.request_supplement', {
      ...payload,
      gaps: [{ material: '户口簿', reason: '缺少' }],
    });
    await emit(env, 'case.forward', { ...payload, competentDepartmentId: 'dep-9' });
    await emit(env, 'case.start_review', payload); // no template: nothing
    const messages = await env.notifications.messagesOfCase(payload.caseId);
    expect(messages.map((m) => `${m.recipient} ${m.templateKey}`)).toEqual([
      'applicant:acc-wang case.accepted',
      'applicant:acc-wang case.supplement_requested',
      'applicant:acc-wang case.forwarded',
      'department:dep-9 staff.forwarded',
    ]);
  });

  it('ignores other topics and unusable payloads without blocking the outbox', async () => {
    const env = await setup();
    const payload = casePayload();
    await emit(env, 'hall.closed', payload);
    await emit(env, 'case.reassigned_internally', payload);
    await emit(env, 'case.accepted', { caseId: payload.caseId, status: 'accepted' }); // no caseNumber/itemName
    expect(await env.notifications.messagesOfCase(payload.caseId)).toEqual([]);
    // warnings go to the department only, never to the applicant
    await emit(env, 'case.warning', casePayload({ caseId: payload.caseId, warning: 'red' }));
    const messages = await env.notifications.messagesOfCase(payload.caseId);
    expect(messages.map((m) => [m.recipient, m.channel, m.subject])).toEqual([
      ['department:dep-gongan-520102', 'inbox', '红牌预警：520102-20260302-0042'],
    ]);
  });
});

describe('email over SMTP (nodemailer → a real smtp-server)', () => {
  it('delivers a UTF-8 email with the Chinese subject and body intact', async () => {
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const env = await setup({
      channels: { email: new SmtpEmailChannel({ url: smtp.url, from: '贵州通办 <noreply@tongban.test>' }) },
    });
    const payload = casePayload({
      applicant: { name: '王芳', email: 'wang.fang@example.cn' },
      gaps: [{ material: '户口簿', reason: '复印件不清晰' }],
    });
    await emit(env, 'case.supplement_requested', payload);
    const report = await env.notifications.sendDue();
    expect(report).toMatchObject({ claimed: 1, delivered: 1, retrying: 0, failed: 0 });

    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['wang.fang@example.cn']);
    expect(mail.from).toBe('noreply@tongban.test');
    const { headers, text } = parseMail(mail.raw);
    expect(headers.subject).toBe('请补正材料');
    expect(headers.from).toBe('贵州通办 <noreply@tongban.test>');
    expect(headers.to).toBe('wang.fang@example.cn');
    expect(headers['content-type']).toMatch(/text\/plain; charset=utf-8/i);
    expect(text).toBe(
      '您的办件 520102-20260302-0042（居民身份证换领）需要补正以下材料：户口簿（复印件不清晰）。请于 2026-03-20 前一次性补齐后重新提交。',
    );
    const [email] = await env.notifications
      .messagesOfCase(payload.caseId)
      .then((m) => m.filter((x) => x.channel === 'email'));
    expect(headers['message-id']).toBe(`<${email!.id}@tongban>`);
    expect(email).toMatchObject({ status: 'delivered', attempts: 1, nextAttemptAt: null, lastError: null });
    expect(email!.deliveredAt).not.toBeNull();
  });

  it('retries a temporarily rejecting server with backoff 1 min, 5 min, 30 min, 2 h, then gives up', async () => {
    const smtp = await startSmtpServer({ rejectRcpt: 451 });
    cleanups.push(() => smtp.close());
    const env = await setup({
      channels: { email: new SmtpEmailChannel({ url: smtp.url, from: 'x@tongban.test' }) },
    });
    const payload = casePayload({ applicant: { email: 'wang.fang@example.cn' } });
    await emit(env, 'case.accepted', payload);
    const emailOf = async () =>
      (await env.notifications.messagesOfCase(payload.caseId)).find((m) => m.channel === 'email')!;

    let now = new Date(Date.now() + 1000);
    for (const [i, delay] of DEFAULT_RETRY_DELAYS_MS.entries()) {
      expect(await env.notifications.sendDue({ now })).toMatchObject({ claimed: 1, retrying: 1 });
      const m = await emailOf();
      expect(m.status).toBe('failed');
      expect(m.attempts).toBe(i + 1);
      expect(m.lastError).toMatch(/451.*Mailbox unavailable.*will retry/);
      expect(m.nextAttemptAt).toBe(new Date(now.getTime() + delay).toISOString());
      // not due a millisecond early
      expect((await env.notifications.sendDue({ now: new Date(now.getTime() + delay - 1) })).claimed).toBe(0);
      now = new Date(now.getTime() + delay);
    }
    expect(await env.notifications.sendDue({ now })).toMatchObject({ claimed: 1, failed: 1 });
    const m = await emailOf();
    expect(m).toMatchObject({ status: 'failed', attempts: 5, nextAttemptAt: null });
    expect(m.lastError).toMatch(/attempt 5 of 5; gave up/);
    expect((await env.notifications.sendDue({ now: new Date(now.getTime() + 86_400_000) })).claimed).toBe(0);
    expect(smtp.rcptAttempts).toBe(5);
    expect(smtp.mails).toHaveLength(0);
  });

  it('fails at once, without retrying, when the server rejects permanently (5xx)', async () => {
    const smtp = await startSmtpServer({ rejectRcpt: 550 });
    cleanups.push(() => smtp.close());
    const env = await setup({
      channels: { email: new SmtpEmailChannel({ url: smtp.url, from: 'x@tongban.test' }) },
    });
    const payload = casePayload({ applicant: { email: 'nobody@example.cn' } });
    await emit(env, 'case.accepted', payload);
    expect(await env.notifications.sendDue()).toMatchObject({ claimed: 1, failed: 1 });
    const m = (await env.notifications.messagesOfCase(payload.caseId)).find((x) => x.channel === 'email')!;
    expect(m).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: null });
    expect(m.lastError).toMatch(/550/);
  });

  it('gives up on a silent SMTP server after the timeout and retries later (transient)', async () => {
    const silent = net.createServer(() => {}); // accepts, never greets
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise((resolve) => silent.close(resolve)));
    silent.on('connection', (socket) => cleanups.push(() => socket.destroy()));
    const url = `smtp://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const env = await setup({
      channels: { email: new SmtpEmailChannel({ url, from: 'x@tongban.test', timeoutMs: 300 }) },
    });
    await emit(env, 'case.accepted', casePayload({ applicant: { email: 'wang.fang@example.cn' } }));
    const started = Date.now();
    expect(await env.notifications.sendDue()).toMatchObject({ claimed: 1, retrying: 1 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('without SMTP_URL, email messages fail with a clear reason', async () => {
    const env = await setup(); // config from an empty environment: email disabled
    const payload = casePayload({ applicant: { email: 'wang.fang@example.cn' } });
    await emit(env, 'case.accepted', payload);
    await env.notifications.sendDue();
    const m = (await env.notifications.messagesOfCase(payload.caseId)).find((x) => x.channel === 'email')!;
    expect(m).toMatchObject({ status: 'failed', nextAttemptAt: null });
    expect(m.lastError).toMatch(/SMTP_URL is unset/);
  });
});

describe('Web Push (RFC 8030 + RFC 8291 aes128gcm + RFC 8292 VAPID) to a local endpoint', () => {
  it('delivers an encrypted, VAPID-signed push that the subscriber decrypts', async () => {
    const push = await startHttpServer();
    cleanups.push(() => push.close());
    const env = await setup();
    const sub = browserSubscription(`${push.origin}/push/abc`);
    await env.notifications.subscribePush('acc-wang', sub);
    const payload = casePayload({
      applicant: { accountId: 'acc-wang' },
      outcome: 'granted',
      pickupCode: '384615',
    });
    await emit(env, 'case.decided', payload);
    expect(await env.notifications.sendDue()).toMatchObject({ claimed: 1, delivered: 1 });

    expect(push.requests).toHaveLength(1);
    const req = push.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', path: '/push/abc' });
    expect(req.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(req.headers.ttl)).toBe(86_400);
    const { k, claims } = verifyVapid(req.headers.authorization, push.origin);
    expect(k).toBe(env.notifications.vapidPublicKey);
    expect(claims.sub).toBe('mailto:noreply@tongban.localhost');
    // the body is ciphertext: the Chinese text is not readable on the wire
    expect(req.body.toString('utf8')).not.toContain('办结');
    const message = JSON.parse(sub.decrypt(req.body));
    const [stored] = (await env.notifications.messagesOfCase(payload.caseId)).filter(
      (m) => m.channel === 'web_push',
    );
    expect(message).toEqual({
      messageId: stored!.id,
      title: '办件已办结',
      body: '您的办件 520102-20260302-0042（居民身份证换领）已办结，结果为准予。请凭取件码 384615 到大厅领取办理结果。',
      topic: 'case.decided',
      caseId: payload.caseId,
      caseNumber: payload.caseNumber,
      locale: 'zh-CN',
    });
    expect(stored).toMatchObject({ status: 'delivered', attempts: 1 });
    // a different subscriber cannot decrypt it
    expect(() => browserSubscription(sub.endpoint).decrypt(req.body)).toThrow();
  });

  it('removes the subscription when the push service answers 410 Gone, and sends no more to it', async () => {
    const push = await startHttpServer((path) => (path.startsWith('/gone') ? 410 : 201));
    cleanups.push(() => push.close());
    const env = await setup();
    await env.notifications.subscribePush('acc-wang', browserSubscription(`${push.origin}/gone/1`));
    await env.notifications.subscribePush('acc-wang', browserSubscription(`${push.origin}/alive/1`));
    const payload = casePayload({ applicant: { accountId: 'acc-wang' } });
    await emit(env, 'case.accepted', payload);
    expect(await env.notifications.sendDue()).toMatchObject({ claimed: 2, delivered: 1, failed: 1 });
    const pushes = (await env.notifications.messagesOfCase(payload.caseId)).filter(
      (m) => m.channel === 'web_push',
    );
    const gone = pushes.find((m) => m.status === 'failed')!;
    expect(gone.lastError).toMatch(/410.*removed/);
    expect(gone.nextAttemptAt).toBeNull();
    expect((await env.notifications.subscriptionsOf('acc-wang')).map((s) => s.endpoint)).toEqual([
      `${push.origin}/alive/1`,
    ]);
    const next = casePayload({ applicant: { accountId: 'acc-wang' } });
    await emit(env, 'case.decided', next);
    const later = (await env.notifications.messagesOfCase(next.caseId)).filter(
      (m) => m.channel === 'web_push',
    );
    expect(later).toHaveLength(1);
  });

  it('retries when the push service is overloaded (503) and rejects bad subscriptions with the field named', async () => {
    const push = await startHttpServer(() => 503);
    cleanups.push(() => push.close());
    const env = await setup();
    await env.notifications.subscribePush('acc-wang', browserSubscription(`${push.origin}/busy`));
    await emit(env, 'case.accepted', casePayload({ applicant: { accountId: 'acc-wang' } }));
    expect(await env.notifications.sendDue()).toMatchObject({ claimed: 1, retrying: 1 });

    const good = browserSubscription('https://push.example.invalid/x');
    const badKey = await rejectionOf(
      env.notifications.subscribePush('acc-wang', { ...good, keys: { ...good.keys, p256dh: 'AAAA' } }),
    );
    expect(badKey).toMatchObject({
      code: 'notification.bad_subscription',
      field: 'subscription.keys.p256dh',
    });
    const plainHttp = await rejectionOf(
      env.notifications.subscribePush('acc-wang', { ...good, endpoint: 'http://push.example.invalid/x' }),
    );
    expect(plainHttp.field).toBe('subscription.endpoint');
    expect(await env.notifications.subscriptionsOf('acc-wang')).toHaveLength(1);
  });
});

describe('SMS', () => {
  it('the development adapter records the message (signature first) and marks it delivered', async () => {
    const dev = new DevSmsChannel();
    const env = await setup({ channels: { sms: dev } });
    const payload = casePayload({ applicant: { phone: '13812345678' } });
    await emit(env, 'case.received', payload);
    expect(dev.sent).toHaveLength(0); // made in the dispatch transaction, sent by the sender
    await env.notifications.sendDue();
    expect(dev.sent).toHaveLength(1);
    expect(dev.sent[0]).toMatchObject({
      to: '13812345678',
      text: '【贵州通办】您的办件 520102-20260302-0042（居民身份证换领）已收件，工作人员正在审查材料。',
    });
    const [sms] = (await env.notifications.messagesOfCase(payload.caseId)).filter((m) => m.channel === 'sms');
    expect(dev.sent[0]!.messageId).toBe(sms!.id);
    expect(sms!.status).toBe('delivered');
  });

  it('the HTTP gateway adapter posts JSON with an idempotency key; 5xx is retried, 4xx is final', async () => {
    let answer = 200;
    const gateway = await startHttpServer(() => answer);
    cleanups.push(() => gateway.close());
    const env = await setup({
      channels: { sms: new HttpSmsChannel({ url: `${gateway.origin}/sms`, token: 't0ken' }) },
    });
    const a = casePayload({ applicant: { phone: '13812345678' } });
    await emit(env, 'case.withdrawn', a);
    expect(await env.notifications.sendDue()).toMatchObject({ delivered: 1 });
    const req = gateway.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer t0ken');
    const [sms] = (await env.notifications.messagesOfCase(a.caseId)).filter((m) => m.channel === 'sms');
    expect(req.headers['idempotency-key']).toBe(sms!.id);
    expect(JSON.parse(req.body.toString('utf8'))).toEqual({
      to: '13812345678',
      text: '【贵州通办】您的办件 520102-20260302-0042（居民身份证换领）已撤回。',
      reference: sms!.id,
    });
    answer = 502;
    await emit(env, 'case.withdrawn', casePayload({ applicant: { phone: '13812345678' } }));
    expect(await env.notifications.sendDue()).toMatchObject({ retrying: 1 });
    answer = 400;
    await emit(env, 'case.withdrawn', casePayload({ applicant: { phone: '13812345678' } }));
    expect(await env.notifications.sendDue()).toMatchObject({ failed: 1, retrying: 0 });
  });
});

describe('sender: claims, leases and crashes', () => {
  it('re-sends a message whose sender crashed while sending, once its lease has expired', async () => {
    const dev = new DevSmsChannel();
    const env = await setup({ channels: { sms: dev }, leaseMs: 600_000 });
    await emit(env, 'case.accepted', casePayload({ applicant: { phone: '13812345678' } }));
    const t0 = new Date(Date.now() + 1000);
    // a sender claims the message and dies before sending or recording anything
    const [claimed] = await env.repo.claimDue({
      now: t0,
      limit: 10,
      leaseUntil: new Date(t0.getTime() + 600_000),
      maxAttempts: 5,
    });
    expect(claimed).toMatchObject({ status: 'sending', attempts: 1 });
    expect((await env.notifications.sendDue({ now: new Date(t0.getTime() + 599_999) })).claimed).toBe(0);
    expect(dev.sent).toHaveLength(0);
    expect(await env.notifications.sendDue({ now: new Date(t0.getTime() + 600_000) })).toMatchObject({
      claimed: 1,
      delivered: 1,
    });
    expect(dev.sent).toHaveLength(1);
    expect(await env.repo.findMessage(claimed!.id)).toMatchObject({ status: 'delivered', attempts: 2 });
    // the dead sender's late outcome for attempt 1 cannot overwrite attempt 2
    expect(
      await env.repo.recordOutcome(claimed!.id, 1, {
        status: 'failed',
        at: t0,
        error: 'late',
        nextAttemptAt: null,
      }),
    ).toBe(false);
  });

  it('gives a crashed last attempt up as failed (lost) instead of sending it forever', async () => {
    const env = await setup({ channels: { sms: new DevSmsChannel() }, retryDelaysMs: [], leaseMs: 1000 });
    const payload = casePayload({ applicant: { phone: '13812345678' } });
    await emit(env, 'case.accepted', payload);
    const t0 = new Date(Date.now() + 1000);
    await env.repo.claimDue({
      now: t0,
      limit: 10,
      leaseUntil: new Date(t0.getTime() + 1000),
      maxAttempts: 1,
    });
    expect(await env.notifications.sendDue({ now: new Date(t0.getTime() + 1000) })).toMatchObject({
      claimed: 0,
      lost: 1,
    });
    const [sms] = (await env.notifications.messagesOfCase(payload.caseId)).filter((m) => m.channel === 'sms');
    expect(sms).toMatchObject({ status: 'failed', nextAttemptAt: null, attempts: 1 });
    expect(sms!.lastError).toMatch(/may or may not have arrived/);
  });

  it('two senders on the same database never send a message twice', async () => {
    const env = await setup({ channels: { sms: new DevSmsChannel() } });
    for (let i = 0; i < 60; i++)
      await env.database.db.transaction((tx) =>
        env.outbox.append(tx, [
          {
            topic: 'case.accepted',
            aggregateType: 'case',
            aggregateId: `c${i}`,
            payload: casePayload({
              caseId: `c${i}`,
              applicant: { phone: `1380000${String(i).padStart(4, '0')}` },
            }),
          },
        ]),
      );
    while ((await env.outbox.dispatch(25)) > 0);
    // a slow gateway widens the window in which the two senders overlap
    const slow = (sink: string[]): Channel => ({
      name: 'sms',
      send: async (m) => {
        await new Promise((r) => setTimeout(r, 2));
        sink.push(m.id);
      },
    });
    const sentA: string[] = [];
    const sentB: string[] = [];
    // Nodes of one installation share the PII keys (PII_ENCRYPTION_KEYS).
    const a = new NotificationsService(env.database.db, { config, vault, channels: { sms: slow(sentA) } });
    const b = new NotificationsService(env.database.db, { config, vault, channels: { sms: slow(sentB) } });
    const drain = async (s: NotificationsService) => {
      while ((await s.sendDue({ limit: 7 })).claimed > 0);
    };
    await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
    const all = [...sentA, ...sentB];
    expect(all).toHaveLength(60);
    expect(new Set(all).size).toBe(60);
    expect(await env.notifications.countByStatus()).toEqual({ delivered: 120 }); // 60 inbox + 60 sms
  });
});

describe('configuration', () => {
  it('generates development VAPID keys when unset and insists on both keys when one is set', async () => {
    expect(config.webPush.generated).toBe(true);
    expect(Buffer.from(config.webPush.publicKey, 'base64url')).toHaveLength(65);
    const fixed = loadNotificationsConfig({
      WEB_PUSH_VAPID_PUBLIC_KEY: config.webPush.publicKey,
      WEB_PUSH_VAPID_PRIVATE_KEY: config.webPush.privateKey,
      SMTP_URL: 'smtp://127.0.0.1:2525',
    });
    expect(fixed.webPush).toMatchObject({ publicKey: config.webPush.publicKey, generated: false });
    expect(fixed.smtpUrl).toBe('smtp://127.0.0.1:2525');
    const half = await rejectionOf(async () =>
      loadNotificationsConfig({ WEB_PUSH_VAPID_PUBLIC_KEY: config.webPush.publicKey }),
    );
    expect(half.field).toBe('WEB_PUSH_VAPID_PRIVATE_KEY');
    const badSmtp = await rejectionOf(async () => loadNotificationsConfig({ SMTP_URL: 'mail.example.cn' }));
    expect(badSmtp.field).toBe('SMTP_URL');
  });
});

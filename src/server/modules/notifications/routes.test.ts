import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPiiFlow } from '../../../testing/pii-flow.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { browserSubscription } from './test-support.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** A case event as the case module emits it, appended in its own transaction and dispatched. */
async function emit(topic: string, accountId: string): Promise<void> {
  const caseId = randomUUID();
  const payload = {
    caseId,
    caseNumber: '520102-20260302-0042',
    itemCode: '11520000MB1234567X4000117001000',
    itemName: '居民身份证换领',
    status: 'accepted',
    applicant: { name: '王芳', accountId },
    competentDepartmentId: 'dep-gongan-520102',
    intakeHallCode: '520111-zwfw',
    deadline: '2026-03-20',
  };
  await server.database.db.transaction((tx) =>
    server.services.outbox.append(tx, [{ topic, aggregateType: 'case', aggregateId: caseId, payload }]),
  );
  await server.services.outbox.dispatch();
}

const get = (qs: string, actor?: string) =>
  server.app.inject({
    method: 'GET',
    url: `/api/v1/notifications/inbox?${qs}`,
    headers: actor ? { 'x-tongban-actor': actor } : {},
  });
const post = (url: string, payload: object, actor?: string) =>
  server.app.inject({ method: 'POST', url, payload, headers: actor ? { 'x-tongban-actor': actor } : {} });

describe('inbox and push-subscription routes', () => {
  it('pages the caller’s own inbox newest first with the unread count, marks read, registers a push subscription', async () => {
    const li = 'applicant:acc-li';
    for (const t of ['case.submitted', 'case.received', 'case.accepted', 'case.decided', 'case.delivered'])
      await emit(t, 'acc-li');
    await emit('case.accepted', 'acc-other');

    const p1 = (await get('recipient=applicant:acc-li&limit=2', li)).json();
    expect(p1.unread).toBe(5);
    expect(p1.items.map((m: { topic: string }) => m.topic)).toEqual(['case.delivered', 'case.decided']);
    const p2 = (await get(`recipient=applicant:acc-li&limit=2&before=${p1.next}`, li)).json();
    expect(p2.items.map((m: { topic: string }) => m.topic)).toEqual(['case.accepted', 'case.received']);
    const p3 = (await get(`recipient=applicant:acc-li&limit=2&before=${p2.next}`, li)).json();
    expect(p3.items.map((m: { topic: string }) => m.topic)).toEqual(['case.submitted']);
    expect(p3.next).toBeNull();

    const read = await post(
      '/api/v1/notifications/inbox/read',
      { recipient: 'applicant:acc-li', ids: [p1.items[0].id, p1.items[1].id] },
      li,
    );
    expect(read.json()).toEqual({ updated: 2, unread: 3 });
    // ids of another recipient's messages are ignored
    const other = (await get('recipient=applicant:acc-other', 'applicant:acc-other')).json();
    const again = await post(
      '/api/v1/notifications/inbox/read',
      { recipient: 'applicant:acc-li', ids: [other.items[0].id] },
      li,
    );
    expect(again.json()).toEqual({ updated: 0, unread: 3 });

    const bad = await get('recipient=nobody', li);
    expect([bad.statusCode, bad.json().error.code, bad.json().error.field]).toEqual([
      400,
      'notification.bad_recipient',
      'recipient',
    ]);
    expect((await get('recipient=applicant:acc-li&before=garbage', li)).json().error.field).toBe('before');

    const key = await server.app.inject({
      method: 'GET',
      url: '/api/v1/notifications/push/vapid-public-key',
    });
    expect(key.json().publicKey).toBe(server.services.notifications.vapidPublicKey);
    const sub = browserSubscription('https://push.example.invalid/s/1');
    const subscription = { endpoint: sub.endpoint, keys: sub.keys, expirationTime: null };
    const created = await post(
      '/api/v1/notifications/push-subscriptions',
      { accountId: 'acc-li', subscription },
      li,
    );
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ accountId: 'acc-li', endpoint: sub.endpoint });
    const badAuth = await post(
      '/api/v1/notifications/push-subscriptions',
      { accountId: 'acc-li', subscription: { endpoint: sub.endpoint, keys: { ...sub.keys, auth: 'AA' } } },
      li,
    );
    expect([badAuth.statusCode, badAuth.json().error.field]).toEqual([400, 'subscription.keys.auth']);
    expect(await server.services.notifications.subscriptionsOf('acc-li')).toHaveLength(1);
  });

  it('answers nobody but the recipient: 401 anonymous, 403 another principal, for reads, marks and push', async () => {
    await emit('case.accepted', 'acc-zhao');
    const mine = (await get('recipient=applicant:acc-zhao', 'applicant:acc-zhao')).json();
    expect(mine.items).toHaveLength(1);
    const anonymous = await get('recipient=applicant:acc-zhao');
    expect([anonymous.statusCode, anonymous.json().error.code]).toEqual([401, 'auth.required']);
    expect(anonymous.body).not.toContain(mine.items[0].subject);
    for (const actor of ['applicant:acc-qian', 'staff:x', 'staff:y;hall=522601-zwfw']) {
      const res = await get('recipient=applicant:acc-zhao', actor);
      expect([actor, res.statusCode, res.json().error.code]).toEqual([
        actor,
        403,
        'notification.recipient_forbidden',
      ]);
    }
    // a staff member reads staff:<self> only; a resident reads no department inbox
    expect((await get('recipient=staff:x', 'staff:x')).statusCode).toBe(200);
    expect((await get('recipient=staff:x', 'staff:other')).statusCode).toBe(403);
    const marks = await post('/api/v1/notifications/inbox/read', {
      recipient: 'applicant:acc-zhao',
      ids: [mine.items[0].id],
    });
    expect(marks.statusCode).toBe(401);
    const marked = await post(
      '/api/v1/notifications/inbox/read',
      { recipient: 'applicant:acc-zhao', ids: [mine.items[0].id] },
      'applicant:acc-qian',
    );
    expect(marked.statusCode).toBe(403);
    expect((await get('recipient=applicant:acc-zhao', 'applicant:acc-zhao')).json().unread).toBe(1);
    const sub = browserSubscription('https://push.example.invalid/s/2');
    const subscription = { endpoint: sub.endpoint, keys: sub.keys };
    expect(
      (await post('/api/v1/notifications/push-subscriptions', { accountId: 'acc-zhao', subscription }))
        .statusCode,
    ).toBe(401);
    const foreign = await post(
      '/api/v1/notifications/push-subscriptions',
      { accountId: 'acc-zhao', subscription },
      'applicant:acc-qian',
    );
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([
      403,
      'notification.recipient_forbidden',
    ]);
    expect(await server.services.notifications.subscriptionsOf('acc-zhao')).toHaveLength(0);
  });

  it('shows the inbox of an applicant without an account only to staff who may read the case, via the dev header; a resident with an account gets hers in her own inbox', async () => {
    const flow = await runPiiFlow(server, '7');
    const caseOf = async (number: string, actor: string) =>
      (
        await server.app.inject({
          method: 'GET',
          url: `/api/v1/cases/${number}`,
          headers: { 'x-tongban-actor': actor },
        })
      ).json() as { id: string; number: string };
    // the walk-in of 陈静 (no account), filed at the 南明 hall
    const nanming = 'staff:nm-any;hall=520102-zwfw';
    const walkIn = await caseOf(flow.caseNumbers[1]!, nanming);
    const qs = `recipient=applicant:case:${walkIn.id}`;
    const anonymous = await get(qs);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.body).not.toContain(walkIn.number);
    for (const actor of [`applicant:${walkIn.id}`, 'staff:kaili-window-1;hall=522601-zwfw']) {
      const res = await get(qs, actor);
      expect([actor, res.statusCode]).toEqual([actor, 403]);
      expect(res.body).not.toContain(walkIn.number);
    }
    // an unknown case is refused like a foreign one (its existence is not told)
    expect((await get(`recipient=applicant:case:${randomUUID()}`, 'staff:x')).statusCode).toBe(403);
    const intake = await get(qs, nanming);
    expect(intake.statusCode).toBe(200);
    expect(intake.body).toContain(walkIn.number);
    // 王小芳's case, filed for her by an agent: her messages and pickup code went to her account's inbox
    // (runPiiFlow read the code there), none to the case's
    const kaili = 'staff:kaili-window-1;hall=522601-zwfw';
    const hers = await caseOf(flow.caseNumbers[0]!, kaili);
    const caseInbox = await get(`recipient=applicant:case:${hers.id}`, kaili);
    expect(caseInbox.statusCode).toBe(200);
    expect(caseInbox.json().items).toEqual([]);
  });
});

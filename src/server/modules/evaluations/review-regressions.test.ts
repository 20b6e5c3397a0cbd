/** Regression tests from the adversarial review of 好差评 over HTTP (issue 7). Each `it` states the expected behaviour. */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';

let server: RunningServer;
const HALL = '522601-zwfw';
let weiningCivil = '';
let seq = 500;

beforeAll(async () => {
  server = await startTestServer();
  weiningCivil = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
});
afterAll(async () => {
  await server?.close();
});

const idNumber = (s: string) => {
  const first17 = `52052619810101${s}`;
  return first17 + computeIdentityCheckCharacter(first17);
};
const clerk = `staff:kaili-clerk;hall=${HALL}`;
const weining = () => `staff:weining-officer;department=${weiningCivil}`;

async function call(
  method: 'GET' | 'POST',
  url: string,
  options: { actor?: string; body?: unknown; key?: string | null } = {},
) {
  const res = await server.app.inject({
    method,
    url,
    headers: {
      ...(options.actor ? { 'x-tongban-actor': options.actor } : {}),
      ...(method === 'POST' && options.key !== null
        ? { 'idempotency-key': options.key ?? randomUUID() }
        : {}),
    },
    ...(options.body !== undefined ? { payload: options.body as object } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read response bodies of many shapes
  let body: any;
  try {
    body = res.json();
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, body };
}

async function caseOf(applicant: string, until: 'received' | 'decided' | 'delivered' = 'delivered') {
  const filed = await call('POST', '/api/v1/cases', {
    actor: `applicant:${applicant}`,
    body: {
      itemCode: '050004001000',
      applicant: { kind: 'natural_person', name: '测试', idNumber: idNumber(String(++seq)) },
      channel: 'pc',
      intakeHallCode: HALL,
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520526',
      delivery: { method: 'mail', recipient: '测试', phone: '13800000009', address: '贵州省凯里市测试路9号' },
      formData: { familySize: 3, monthlyIncome: 1200 },
    },
  });
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
  const n = filed.body.case.number as string;
  const steps: [string, unknown][] = [
    [clerk, { type: 'receive' }],
    [clerk, { type: 'forward' }],
    [weining(), { type: 'accept' }],
    [weining(), { type: 'decide', outcome: 'granted' }],
    [weining(), { type: 'deliver', method: 'mail', reference: 'SF100' }],
  ];
  const upto = until === 'received' ? 1 : until === 'decided' ? 4 : 5;
  for (const [actor, body] of steps.slice(0, upto)) {
    const r = await call('POST', `/api/v1/cases/${n}/commands`, { actor, body });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  return n;
}
const rate = (body: Record<string, unknown>, actor?: string, key?: string | null) =>
  call('POST', '/api/v1/evaluations', {
    body,
    ...(actor ? { actor } : {}),
    ...(key !== undefined ? { key } : {}),
  });
const evaluationsOf = async (n: string) =>
  rowsOf<{ id: string; channel: string; level: number }>(
    await server.database.db.execute(
      sql`select id, channel, level from evaluations where case_number = ${n}`,
    ),
  );

describe('review: one resident, one rating', () => {
  it('the applicant who rated in the app cannot rate the same case again through the SMS link', async () => {
    const n = await caseOf('rv-double');
    const token = server.services.evaluations.ratingToken(n);
    const app = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-double');
    expect(app.status, JSON.stringify(app.body)).toBe(201);
    const link = await rate({ caseNumber: n, channel: 'sms', level: 5, token }, 'applicant:rv-double');
    const qr = await rate({ caseNumber: n, channel: 'qr_code', level: 5, token });
    const rows = await evaluationsOf(n);
    // was: 201 for the link too — two counted bad reviews and two rectifications from one person
    expect([link.status, qr.status, rows.length]).toEqual([409, 409, 1]);
  });

  it('three bad reviews of ONE case (app + link + tablet) do not raise a bad-review cluster alert', async () => {
    const n = await caseOf('rv-cluster');
    const token = server.services.evaluations.ratingToken(n);
    const app = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-cluster');
    const link = await rate({ caseNumber: n, channel: 'sms', level: 5, token });
    const tablet = await rate({ caseNumber: n, channel: 'hall_tablet', level: 5 }, clerk);
    expect([app.status, link.status, tablet.status]).toEqual([201, 409, 409]);
    expect(link.body.error.code).toBe('evaluation.already_rated');
    await server.jobs.runOnce();
    const alerts = rowsOf<{ place: string }>(
      await server.database.db.execute(
        sql`select place from alerts where rule = 'bad_review_cluster' and place = ${`department:${weiningCivil}`}`,
      ),
    );
    // was: 3 evaluations of one case and a bad_review_cluster alert on the department
    expect({ evaluations: (await evaluationsOf(n)).length, alerts: alerts.length }).toEqual({
      evaluations: 1,
      alerts: 0,
    });
  });

  it('a level-5 rating through the case engine’s rate command opens a rectification (or is refused)', async () => {
    const n = await caseOf('rv-bypass');
    const r = await call('POST', `/api/v1/cases/${n}/commands`, {
      actor: 'applicant:rv-bypass',
      body: { type: 'rate', level: 5 },
    });
    const rects = rowsOf(
      await server.database.db.execute(sql`select 1 from rectifications where case_number = ${n}`),
    );
    // was: 200, case rated 5, no evaluation row, no rectification — the route now refuses `rate`
    expect([r.status, r.body.error?.code], JSON.stringify(r.body)).toEqual([
      409,
      'case.rate_through_evaluations',
    ]);
    expect(rects).toHaveLength(0);
    expect((await server.services.cases.get(n)).status).toBe('delivered');
    const rated = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-bypass');
    expect(rated.status, JSON.stringify(rated.body)).toBe(201);
    expect((await server.services.cases.get(n)).status).toBe('rated');
  });
});

describe('review: bad input never 500', () => {
  it('a NUL character in free text is a 400, not a 500', async () => {
    const n = await caseOf('rv-nul');
    const r = await rate(
      { caseNumber: n, channel: 'mobile', level: 4, comment: 'bad\u0000x' },
      'applicant:rv-nul',
    );
    expect(r.status, JSON.stringify(r.body)).not.toBe(500);
    const ok = await rate({ caseNumber: n, channel: 'mobile', level: 4, comment: '慢' }, 'applicant:rv-nul');
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const cb = await call('POST', `/api/v1/rectifications/${ok.body.rectificationId}/call-back`, {
      actor: weining(),
      body: { summary: '回访\u0000内容' },
    });
    expect(cb.status, JSON.stringify(cb.body)).not.toBe(500);
    const ev = (await evaluationsOf(n))[0]!.id;
    const ap = await call('POST', `/api/v1/evaluations/${ev}/appeal`, {
      actor: clerk,
      body: { ground: 'malicious', reason: '恶意\u0000差评' },
    });
    expect(ap.status, JSON.stringify(ap.body)).not.toBe(500);
  });

  it('wrong types, huge strings, lone surrogates: 4xx', async () => {
    const n = await caseOf('rv-types');
    const bad: Record<string, unknown>[] = [
      { caseNumber: n, channel: 'mobile', level: '5' },
      { caseNumber: n, channel: 'mobile', level: null },
      { caseNumber: Number(n), channel: 'mobile', level: 5 },
      { caseNumber: n, channel: 'fax', level: 5 },
      { caseNumber: n, channel: 'mobile', level: 5, comment: 'x'.repeat(100_000) },
      { caseNumber: n, channel: 'mobile', level: 5, comment: { a: 1 } },
      { caseNumber: n, channel: 'mobile', level: 5, extra: 1 },
      { caseNumber: n, channel: 'sms', level: 5, token: '😀'.repeat(32) },
    ];
    for (const b of bad) {
      const r = await rate(b, 'applicant:rv-types');
      expect([400, 403], JSON.stringify([b, r.body]).slice(0, 300)).toContain(r.status);
    }
    const lone = await rate(
      { caseNumber: n, channel: 'mobile', level: 2, comment: '\ud800好' },
      'applicant:rv-types',
    );
    expect(lone.status, JSON.stringify(lone.body)).not.toBe(500);
  });
});

describe('review: retries and races', () => {
  it('the same Idempotency-Key with another body is refused, not answered with the first rating', async () => {
    const n = await caseOf('rv-key');
    const key = randomUUID();
    const a = await rate({ caseNumber: n, channel: 'mobile', level: 1 }, 'applicant:rv-key', key);
    expect(a.status).toBe(201);
    const b = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-key', key);
    expect(b.status, JSON.stringify(b.body)).toBe(409);
  });

  it('two ratings of one case at once: one 201, one 409, never 500', async () => {
    const n = await caseOf('rv-race');
    const rs = await Promise.all([
      rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-race'),
      rate({ caseNumber: n, channel: 'pc', level: 4 }, 'applicant:rv-race'),
      rate({ caseNumber: n, channel: 'pc', level: 4 }, 'applicant:rv-race', null),
    ]);
    expect(rs.map((r) => r.status).sort(), JSON.stringify(rs.map((r) => r.body))).toEqual([201, 409, 409]);
    expect(await evaluationsOf(n)).toHaveLength(1);
  });

  it('two reviewers decide one appeal at once: one 200, one 409', async () => {
    const n = await caseOf('rv-appeal-race');
    const bad = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-appeal-race');
    const ev = (await evaluationsOf(n))[0]!.id;
    const ap = await call('POST', `/api/v1/evaluations/${ev}/appeal`, {
      actor: clerk,
      body: { ground: 'malicious', reason: '恶意差评' },
    });
    expect(ap.status, JSON.stringify(ap.body)).toBe(201);
    const rs = await Promise.all([
      call('POST', `/api/v1/evaluation-appeals/${ap.body.id}/decision`, {
        actor: 'staff:rv-r1',
        body: { decision: 'uphold', reason: '证实恶意' },
      }),
      call('POST', `/api/v1/evaluation-appeals/${ap.body.id}/decision`, {
        actor: 'staff:rv-r2',
        body: { decision: 'reject', reason: '评价属实' },
      }),
    ]);
    expect(rs.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(bad.status).toBe(201);
  });

  it('call-back retried with the same key replays; a new key is 409', async () => {
    const n = await caseOf('rv-cb');
    const bad = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-cb');
    const id = bad.body.rectificationId;
    const key = randomUUID();
    const a = await call('POST', `/api/v1/rectifications/${id}/call-back`, {
      actor: weining(),
      key,
      body: { summary: '已回访' },
    });
    const b = await call('POST', `/api/v1/rectifications/${id}/call-back`, {
      actor: weining(),
      key,
      body: { summary: '已回访' },
    });
    const c = await call('POST', `/api/v1/rectifications/${id}/call-back`, {
      actor: weining(),
      body: { summary: '已回访' },
    });
    expect([a.status, b.status, c.status], JSON.stringify([a.body, b.body, c.body])).toEqual([200, 200, 409]);
    const follow = await call('POST', `/api/v1/rectifications/${id}/follow-up`, {
      actor: 'applicant:rv-cb',
      body: { level: 1 },
    });
    expect(follow.status).toBe(409);
  });
});

describe('review: authorization', () => {
  it('a resident cannot list rectifications, appeal, or decide; another applicant cannot follow up', async () => {
    const n = await caseOf('rv-auth');
    const bad = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-auth');
    const id = bad.body.rectificationId;
    const ev = (await evaluationsOf(n))[0]!.id;
    expect((await call('GET', '/api/v1/rectifications', { actor: 'applicant:rv-auth' })).status).toBe(403);
    expect(
      (
        await call('POST', `/api/v1/evaluations/${ev}/appeal`, {
          actor: 'applicant:rv-auth',
          body: { ground: 'mistaken', reason: '自己申诉' },
        })
      ).status,
    ).toBe(403);
    await call('POST', `/api/v1/rectifications/${id}/call-back`, {
      actor: weining(),
      body: { summary: '已回访' },
    });
    await call('POST', `/api/v1/rectifications/${id}/outcome`, {
      actor: weining(),
      body: { outcome: '已整改' },
    });
    const stranger = await call('POST', `/api/v1/rectifications/${id}/follow-up`, {
      actor: 'applicant:rv-other',
      body: { level: 1 },
    });
    expect(stranger.status).toBe(404);
    const staff = await call('POST', `/api/v1/rectifications/${id}/follow-up`, {
      actor: weining(),
      body: { level: 1 },
    });
    expect(staff.status).not.toBe(200);
    const otherCounty = await call('POST', `/api/v1/rectifications/${id}/outcome`, {
      actor: 'staff:gy-admin;hall=520102-zwfw',
      body: { outcome: '已整改' },
    });
    expect([otherCounty.status, otherCounty.body.error.code]).toEqual([404, 'rectification.not_found']);
  });

  it('another county’s staff learn nothing about a review by its id: same answer as a missing one', async () => {
    const n = await caseOf('rv-leak');
    await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rv-leak');
    const ev = (await evaluationsOf(n))[0]!.id;
    const outsider = 'staff:gy-admin;hall=520102-zwfw';
    const real = await call('POST', `/api/v1/evaluations/${ev}/appeal`, {
      actor: outsider,
      body: { ground: 'mistaken', reason: '不是本件' },
    });
    const fake = await call('POST', `/api/v1/evaluations/${randomUUID()}/appeal`, {
      actor: outsider,
      body: { ground: 'mistaken', reason: '不是本件' },
    });
    expect([real.status, real.body.error.code]).toEqual([fake.status, fake.body.error.code]);
    expect(real.status).toBe(404);
    const rect = rowsOf<{ id: string }>(
      await server.database.db.execute(sql`select id from rectifications where case_number = ${n}`),
    )[0]!.id;
    for (const id of [rect, randomUUID()]) {
      const cb = await call('POST', `/api/v1/rectifications/${id}/call-back`, {
        actor: outsider,
        body: { summary: '回访' },
      });
      expect([cb.status, cb.body.error.code]).toEqual([404, 'rectification.not_found']);
    }
    // the intake hall's clerk sees the review (may appeal it) but may not record the call-back: 403
    const seen = await call('POST', `/api/v1/rectifications/${rect}/call-back`, {
      actor: clerk,
      body: { summary: '回访' },
    });
    expect([seen.status, seen.body.error.code]).toEqual([403, 'rectification.out_of_scope']);
    const ap = await call('POST', `/api/v1/evaluations/${ev}/appeal`, {
      actor: clerk,
      body: { ground: 'mistaken', reason: '不是本件' },
    });
    expect(ap.status, JSON.stringify(ap.body)).toBe(201);
    for (const id of [ap.body.id, randomUUID()]) {
      const d = await call('POST', `/api/v1/evaluation-appeals/${id}/decision`, {
        actor: outsider,
        body: { decision: 'reject', reason: '评价属实' },
      });
      expect([d.status, d.body.error.code]).toEqual([404, 'evaluation_appeal.not_found']);
    }
  });
});

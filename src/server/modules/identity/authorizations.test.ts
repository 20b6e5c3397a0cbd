/**
 * 帮办代办 consent (委托授权): an agent acts for a resident only under an authorization; the resident sees,
 * consents and revokes; revocation and expiry take effect on the next submission; strangers get 404.
 * Real database, the whole app, an injected clock.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { sm3Hex } from '../storage/service.ts';
import { sessionCookieName } from './plugin.ts';

const KAILI_HALL = '522601-zwfw';
const PASSWORD = 'Consent-Passw0rd!2026';
let server: RunningServer;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

interface Caller {
  headers: Record<string, string>;
  accountId: string;
}
let agent: Caller;
let otherAgent: Caller;
let resident: Caller & { idNumber: string };
let stranger: Caller & { idNumber: string };

async function residentSession(seq: string): Promise<Caller & { idNumber: string }> {
  const idNumber = syntheticIdNumber('520526', '19800101', seq);
  const phone = `1390000${seq.padStart(4, '0')}`;
  const { identity } = server.services;
  const account = await identity.registerResident({
    name: `居民${seq}`,
    idNumber,
    phone,
    password: PASSWORD,
  });
  const s = await identity.loginWithPassword({ phone, password: PASSWORD }, `10.8.${seq.slice(-2)}.1`);
  return {
    accountId: account.id,
    idNumber,
    headers: {
      cookie: `${sessionCookieName(server.services.authConfig.cookieSecure)}=${s.sessionId}`,
      'x-csrf-token': s.csrfToken,
    },
  };
}

async function staffToken(
  name: string,
  role: string | null,
  itemCodes: string[] | null = null,
): Promise<Caller> {
  const { identity } = server.services;
  const account = await identity.createStaff({
    name,
    username: `c-${name}`,
    password: PASSWORD,
    hallCode: KAILI_HALL,
  });
  if (role)
    await identity.grants.grantFromCli(
      {
        accountId: account.id,
        role,
        scope: { kind: 'hall', value: KAILI_HALL },
        itemCodes,
        validUntil: new Date(Date.now() + 365 * 86_400_000),
        reason: '帮办',
      } as never,
      'test',
    );
  const s = await identity.loginWithPassword({ username: `c-${name}`, password: PASSWORD }, '10.7.0.1');
  const t = await identity.createApiToken(s.principal, {
    name,
    scopes: ['cases:read', 'cases:write', 'agent_authorizations:read', 'agent_authorizations:write'],
    expiresInDays: 30,
  });
  return { accountId: account.id, headers: { authorization: `Bearer ${t.token}` } };
}

async function call(who: Caller | null, method: 'GET' | 'POST', url: string, body?: unknown) {
  const res = await server.app.inject({
    method,
    url,
    headers: { ...(who?.headers ?? {}), ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}) },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, body: res.body ? res.json() : {}, raw: res.body };
}

/** A JPEG-looking scan of a signed form (the upload checks the leading bytes), different on every call. */
function formScan(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(randomUUID())]);
}

/**
 * An agent records a signed-form authorization and uploads its scan: it comes into force only with the
 * scan whose digest was recorded (a digest alone proves nothing).
 */
async function recordSignedForm(
  who: Caller,
  body: { resident: unknown; validUntil: string; itemCodes?: string[] | null; reference: string },
): Promise<{ id: string; status: string }> {
  const scan = formScan();
  const { reference, ...rest } = body;
  const created = await call(who, 'POST', '/api/v1/agent-authorizations', {
    ...rest,
    evidence: { kind: 'signed_form', sm3: sm3Hex(scan), reference },
  });
  expect([created.status, created.body.status], created.raw).toEqual([201, 'pending']);
  const up = await server.app.inject({
    method: 'PUT',
    url: `/api/v1/agent-authorizations/${created.body.id}/signed-form`,
    headers: { ...who.headers, 'content-type': 'image/jpeg' },
    payload: scan,
  });
  expect(up.statusCode, up.body).toBe(200);
  return { id: created.body.id as string, status: up.json().status as string };
}

function application(
  idNumber: string,
  ref: string,
  itemCode = '050004001000',
  delivery: Record<string, unknown> = { method: 'pickup', hallCode: KAILI_HALL },
) {
  return {
    itemCode,
    applicant: { kind: 'natural_person', name: '王小芳', idNumber },
    agent: { kind: 'village_agent', name: '李代办', authorizationRef: ref },
    channel: 'hall_window',
    intakeHallCode: KAILI_HALL,
    processingMode: 'off_site_intake',
    decidingDivisionCode: '520526',
    delivery,
    formData: { familySize: 3 },
  };
}

const inDays = (d: number) => new Date(clock().getTime() + d * 86_400_000).toISOString();

async function caseCount(): Promise<number> {
  const r = (await server.database.db.execute(
    'select count(*)::int as n from cases' as never,
  )) as unknown as {
    rows: { n: number }[];
  };
  return Number(r.rows[0]!.n);
}

beforeAll(async () => {
  server = await startTestServer({ clock });
  agent = await staffToken('agent1', 'village_agent');
  otherAgent = await staffToken('agent2', 'helper');
  resident = await residentSession('101');
  stranger = await residentSession('102');
});
afterAll(async () => {
  await server?.close();
});

describe('agent authorizations (帮办代办 consent)', () => {
  it('create (in-app, by ID number) → consent → submit on behalf, attributed to both people', async () => {
    const created = await call(agent, 'POST', '/api/v1/agent-authorizations', {
      resident: { idNumber: resident.idNumber },
      itemCodes: ['050004001000'],
      validUntil: inDays(30),
      evidence: { kind: 'in_app' },
    });
    expect(created.status, created.raw).toBe(201);
    expect(created.body).toMatchObject({
      status: 'pending',
      residentAccountId: resident.accountId,
      inForce: false,
    });
    expect(created.raw).not.toContain(resident.idNumber);
    const ref = created.body.id as string;

    // pending: refused, nothing filed
    const before = await caseCount();
    const early = await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, ref));
    expect([early.status, early.body.error?.code, early.body.error?.field]).toEqual([
      403,
      'case.agent_not_authorized',
      'agent.authorizationRef',
    ]);
    expect(await caseCount()).toBe(before);

    // the resident sees it and consents, signed in
    const mine = await call(resident, 'GET', '/api/v1/agent-authorizations');
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((a: { id: string }) => a.id)).toEqual([ref]);
    const consented = await call(resident, 'POST', `/api/v1/agent-authorizations/${ref}/consent`);
    expect(consented.status, consented.raw).toBe(200);
    expect(consented.body).toMatchObject({ status: 'active', inForce: true });

    const filed = await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, ref));
    expect(filed.status, filed.raw).toBe(201);
    const caseId = filed.body.case.id as string;
    const timeline = await call(agent, 'GET', `/api/v1/cases/${filed.body.case.number}/timeline`);
    expect(timeline.status, timeline.raw).toBe(200);
    const submitEvent = (timeline.body.items ?? timeline.body.events ?? timeline.body).find(
      (e: { type: string }) => e.type === 'submit',
    );
    expect(submitEvent.actor).toMatchObject({ id: agent.accountId, onBehalfOf: resident.accountId });
    const audit = await server.services.audit.list({ action: 'case.submit', targetId: caseId });
    expect(audit.items.map((e) => [e.actor.id, e.actor.onBehalfOf])).toEqual([
      [agent.accountId, resident.accountId],
    ]);
    const created_ = await server.services.audit.list({
      action: 'agent_authorization.create',
      targetId: ref,
    });
    expect(created_.items.map((e) => [e.actor.id, e.actor.onBehalfOf])).toEqual([
      [agent.accountId, resident.accountId],
    ]);

    // another applicant, another agent: refused
    for (const [who, body] of [
      [agent, application(stranger.idNumber, ref)],
      [otherAgent, application(resident.idNumber, ref)],
    ] as const) {
      const r = await call(who, 'POST', '/api/v1/cases', body);
      expect([r.status, r.body.error?.code]).toEqual([403, 'case.agent_not_authorized']);
    }
  });

  it('revocation by the resident is immediate: the next submission is refused', async () => {
    const created = await recordSignedForm(agent, {
      resident: { accountId: resident.accountId },
      validUntil: inDays(30),
      reference: '委托书-0001',
    });
    expect(created.status).toBe('active');
    const ref = created.id;
    expect((await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, ref))).status).toBe(
      201,
    );
    const revoked = await call(resident, 'POST', `/api/v1/agent-authorizations/${ref}/revoke`, {
      reason: '不再委托',
    });
    expect(revoked.status, revoked.raw).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedBy: resident.accountId, inForce: false });
    const before = await caseCount();
    const after = await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, ref));
    expect([after.status, after.body.error?.code]).toEqual([403, 'case.agent_not_authorized']);
    expect(await caseCount()).toBe(before);
    const agentList = await call(agent, 'GET', '/api/v1/agent-authorizations');
    expect(agentList.body.items.find((a: { id: string }) => a.id === ref).status).toBe('revoked');
  });

  it('a stranger neither sees nor consents to nor revokes someone else’s authorization (404)', async () => {
    const created = await call(agent, 'POST', '/api/v1/agent-authorizations', {
      resident: { accountId: resident.accountId },
      validUntil: inDays(10),
      evidence: { kind: 'in_app' },
    });
    const ref = created.body.id as string;
    const list = await call(stranger, 'GET', '/api/v1/agent-authorizations');
    expect([list.status, list.body.items.length]).toEqual([200, 0]);
    for (const [who, action] of [
      [stranger, 'consent'],
      [stranger, 'revoke'],
      [otherAgent, 'revoke'],
      [otherAgent, 'consent'],
    ] as const) {
      const r = await call(who, 'POST', `/api/v1/agent-authorizations/${ref}/${action}`, {});
      expect([action, r.status, r.body.error?.code]).toEqual([action, 404, 'agent_authorization.not_found']);
    }
    const still = await call(resident, 'GET', '/api/v1/agent-authorizations');
    expect(still.body.items.find((a: { id: string }) => a.id === ref).status).toBe('pending');
  });

  it('expiry ends it', async () => {
    const { id: ref } = await recordSignedForm(agent, {
      resident: { accountId: resident.accountId },
      validUntil: new Date(clock().getTime() + 3_600_000).toISOString(),
      reference: '委托书-0002',
    });
    expect((await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, ref))).status).toBe(
      201,
    );
    offsetMs = 3_600_000 + 1_000;
    try {
      const r = await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, ref));
      expect([r.status, r.body.error?.code]).toEqual([403, 'case.agent_not_authorized']);
    } finally {
      offsetMs = 0;
    }
  });

  it('refuses bad input naming the field and non-agents, writing nothing', async () => {
    const count = async () => (await call(resident, 'GET', '/api/v1/agent-authorizations')).body.items.length;
    const before = await count();
    const base = {
      resident: { accountId: resident.accountId },
      validUntil: inDays(30),
      evidence: { kind: 'in_app' },
    };
    for (const [patch, field] of [
      [{ validUntil: inDays(400) }, 'validUntil'],
      [{ itemCodes: ['12'] }, 'itemCodes.0'],
      [{ evidence: { kind: 'signed_form', sm3: 'xyz', reference: 'r' } }, 'evidence.sm3'],
      [{ resident: { idNumber: '123' } }, 'resident.idNumber'],
    ] as const) {
      const r = await call(agent, 'POST', '/api/v1/agent-authorizations', { ...base, ...patch });
      expect([field, r.status, r.body.error?.field]).toEqual([field, 400, field]);
    }
    const clerk = await staffToken('clerk1', 'intake_clerk');
    const r = await call(clerk, 'POST', '/api/v1/agent-authorizations', base);
    expect([r.status, r.body.error?.code]).toEqual([403, 'agent_authorization.not_agent']);
    expect(await count()).toBe(before);
  });
});

describe('帮办代办 after filing: every action of the agent needs the authorization and names both people', () => {
  const MAIL = {
    method: 'mail',
    recipient: '王小芳',
    phone: '13800000123',
    address: '贵州省凯里市测试路1号',
  };
  let weiningDept = '';
  const weining = () => ({ 'x-tongban-actor': `staff:weining-a;department=${weiningDept}` });
  const kailiDesk = { 'x-tongban-actor': `staff:kaili-a;hall=${KAILI_HALL}` };
  const dev = (headers: Record<string, string>): Caller => ({ headers, accountId: 'dev' });
  const act = (who: Caller, n: string, body: unknown) =>
    call(who, 'POST', `/api/v1/cases/${n}/commands`, body);

  async function authorize(items: string[] | null = null): Promise<string> {
    const r = await recordSignedForm(agent, {
      resident: { accountId: resident.accountId },
      itemCodes: items,
      validUntil: inDays(60),
      reference: `委托书-${randomUUID().slice(0, 8)}`,
    });
    expect(r.status).toBe('active');
    return r.id;
  }
  async function fileForResident(ref: string, delivery?: Record<string, unknown>): Promise<string> {
    const r = await call(
      agent,
      'POST',
      '/api/v1/cases',
      application(resident.idNumber, ref, undefined, delivery),
    );
    expect(r.status, r.raw).toBe(201);
    return r.body.case.number as string;
  }

  beforeAll(async () => {
    weiningDept = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
  });

  it('the resident reads the case an agent filed for them, its timeline and “my applications”; a stranger gets 404', async () => {
    const ref = await authorize();
    const n = await fileForResident(ref);
    for (const url of [`/api/v1/cases/${n}`, `/api/v1/cases/${n}/timeline`]) {
      const mine = await call(resident, 'GET', url);
      expect([url, mine.status]).toEqual([url, 200]);
      expect(mine.raw).not.toContain(resident.idNumber);
      const other = await call(stranger, 'GET', url);
      expect([url, other.status, other.body.error?.code]).toEqual([url, 404, 'case.not_found']);
    }
    const list = await call(resident, 'GET', '/api/v1/me/cases');
    expect(list.status, list.raw).toBe(200);
    expect(list.body.items.map((c: { number: string }) => c.number)).toContain(n);
    expect(list.body.items.find((c: { number: string }) => c.number === n).nextStep).toBeNull();
    expect((await call(stranger, 'GET', '/api/v1/me/cases')).body.items).toEqual([]);
    const staffList = await call(agent, 'GET', '/api/v1/me/cases');
    expect([staffList.status, staffList.body.error?.code]).toEqual([403, 'case.residents_only']);
    // the stranger cannot act on it either (404, not a 403 that would confirm it exists)
    const w = await act(stranger, n, { type: 'withdraw', reason: '撤回' });
    expect([w.status, w.body.error?.code]).toEqual([404, 'case.not_found']);
  });

  it('resubmission by the agent: under the authorization, attributed to both; without one, 403 and audited', async () => {
    const ref = await authorize();
    const n = await fileForResident(ref);
    expect((await act(dev(kailiDesk), n, { type: 'forward' })).status).toBe(200);
    const req = await act(dev(weining()), n, {
      type: 'request_supplement',
      gaps: [{ material: '户口簿', reason: '复印件不清晰' }],
    });
    expect(req.status, req.raw).toBe(200);
    // the resident sees what to do next
    const todo = (await call(resident, 'GET', '/api/v1/me/cases')).body.items.find(
      (c: { number: string }) => c.number === n,
    );
    expect(todo.nextStep).toEqual({
      action: 'resubmit',
      gaps: [{ material: '户口簿', reason: '复印件不清晰' }],
      requestedOn: expect.any(String),
    });
    // another agent at the same hall holds no authorization of this resident
    const other = await act(otherAgent, n, { type: 'resubmit' });
    expect([other.status, other.body.error?.code]).toEqual([403, 'case.agent_not_authorized']);
    const back = await act(agent, n, { type: 'resubmit' });
    expect(back.status, back.raw).toBe(200);
    const timeline = await call(resident, 'GET', `/api/v1/cases/${n}/timeline`);
    const event = timeline.body.items.find((e: { type: string }) => e.type === 'resubmit');
    expect(event.actor).toMatchObject({ kind: 'agent', id: agent.accountId, onBehalfOf: resident.accountId });
    const caseId = (await call(resident, 'GET', `/api/v1/cases/${n}`)).body.id as string;
    const audit = await server.services.audit.list({ action: 'case.resubmit', targetId: caseId });
    expect(audit.items.map((e) => [e.outcome, e.actor.id, e.actor.onBehalfOf])).toEqual([
      ['ok', agent.accountId, resident.accountId],
    ]);
    const denied = await server.services.audit.list({
      action: 'case.resubmit',
      actorId: otherAgent.accountId,
    });
    expect(denied.items.map((e) => [e.outcome, e.details.code])).toEqual([
      ['denied', 'case.agent_not_authorized'],
    ]);
  });

  it('withdrawal by the agent ends with the authorization: after the resident revokes it, 403', async () => {
    const ref = await authorize();
    const n = await fileForResident(ref);
    // the resident revokes every authorization of this agent (earlier ones would still cover the case)
    const listed = await call(resident, 'GET', '/api/v1/agent-authorizations');
    const active = listed.body.items.filter(
      (a: { agentAccountId: string; status: string }) =>
        a.agentAccountId === agent.accountId && a.status === 'active',
    );
    expect(active.map((a: { id: string }) => a.id)).toContain(ref);
    for (const a of active) {
      const revoked = await call(resident, 'POST', `/api/v1/agent-authorizations/${a.id}/revoke`, {});
      expect(revoked.status).toBe(200);
    }
    const refused = await act(agent, n, { type: 'withdraw', reason: '申请人不办了' });
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'case.agent_not_authorized']);
    const again = await authorize(['050004001000']);
    const ok = await act(agent, n, { type: 'withdraw', reason: '申请人不办了' });
    expect([ok.status, ok.body.case?.status], ok.raw).toEqual([200, 'withdrawn']);
    const t = await call(resident, 'GET', `/api/v1/cases/${n}/timeline`);
    expect(t.body.items.find((e: { type: string }) => e.type === 'withdraw').actor).toMatchObject({
      id: agent.accountId,
      onBehalfOf: resident.accountId,
    });
    await call(resident, 'POST', `/api/v1/agent-authorizations/${again}/revoke`, {});
  });

  it('after delivery the resident is told to rate and rates herself (好差评); the agent cannot rate for her', async () => {
    const ref = await authorize();
    const n = await fileForResident(ref, MAIL);
    expect((await act(dev(kailiDesk), n, { type: 'forward' })).status).toBe(200);
    for (const body of [
      { type: 'accept' },
      { type: 'decide', outcome: 'granted' },
      { type: 'deliver', method: 'mail', reference: 'SF1' },
    ])
      expect((await act(dev(weining()), n, body)).status).toBe(200);
    const todo = (await call(resident, 'GET', '/api/v1/me/cases')).body.items.find(
      (c: { number: string }) => c.number === n,
    );
    expect(todo.nextStep).toEqual({ action: 'rate' });
    // the rating is the resident's own: never through the case command, never by the agent
    const byAgent = await act(agent, n, { type: 'rate', level: 1 });
    expect([byAgent.status, byAgent.body.error?.code], byAgent.raw).toEqual([
      409,
      'case.rate_through_evaluations',
    ]);
    const rated = await call(resident, 'POST', '/api/v1/evaluations', {
      caseNumber: n,
      channel: 'mobile',
      level: 1,
    });
    expect(rated.status, rated.raw).toBe(201);
    expect((await server.services.cases.get(n)).status).toBe('rated');
    const caseId = (await server.services.cases.get(n)).id;
    const audit = await server.services.audit.list({ action: 'case.rate', targetId: caseId });
    expect(audit.items.map((e) => [e.actor.id, e.actor.onBehalfOf ?? null])).toEqual([
      [resident.accountId, null],
    ]);
  });

  it('an agent whose own grant is limited to other items cannot file this one, even authorized; the refusal is audited without personal data', async () => {
    const limited = await staffToken('agent3', 'village_agent', ['050002001000']);
    const created = await recordSignedForm(limited, {
      resident: { accountId: resident.accountId },
      validUntil: inDays(30),
      reference: '委托书-limited',
    });
    const before = await caseCount();
    const r = await call(limited, 'POST', '/api/v1/cases', application(resident.idNumber, created.id));
    expect([r.status, r.body.error?.code, r.body.error?.field]).toEqual([
      403,
      'case.agent_not_authorized',
      'itemCode',
    ]);
    expect(await caseCount()).toBe(before);
    // an agent files nothing without an authorization, even a plain walk-in application
    const { agent: _none, ...plain } = application(resident.idNumber, 'x');
    const bare = await call(agent, 'POST', '/api/v1/cases', plain);
    expect([bare.status, bare.body.error?.code, bare.body.error?.field]).toEqual([
      403,
      'case.agent_not_authorized',
      'agent.authorizationRef',
    ]);
    expect(await caseCount()).toBe(before);
    // refused for want of an authorization (an unknown ref): audited too
    const unknown = await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, randomUUID()));
    expect(unknown.status).toBe(403);
    const denied = await server.services.audit.list({ action: 'case.submit' });
    const refusals = denied.items.filter((e) => e.outcome === 'denied');
    expect(refusals.map((e) => e.actor.id)).toEqual(
      expect.arrayContaining([limited.accountId, agent.accountId]),
    );
    const mine = refusals.find((e) => e.actor.id === limited.accountId)!;
    expect(mine.details).toMatchObject({
      code: 'case.agent_not_authorized',
      itemCodes: ['050004001000'],
      authorizationRef: created.id,
    });
    const text = JSON.stringify(refusals);
    expect(text).not.toContain(resident.idNumber);
    expect(text).not.toContain('王小芳');
  });
});

describe('the scan of the signed form (签字委托书扫描件)', () => {
  const scan = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('委托书 JPEG 扫描件')]);
  const put = (who: Caller, id: string, bytes: Buffer, type: string) =>
    server.app.inject({
      method: 'PUT',
      url: `/api/v1/agent-authorizations/${id}/signed-form`,
      headers: { ...who.headers, 'content-type': type },
      payload: bytes,
    });
  const get = (who: Caller, id: string) =>
    server.app.inject({
      method: 'GET',
      url: `/api/v1/agent-authorizations/${id}/signed-form`,
      headers: who.headers,
    });

  it('is uploaded by the agent (SM3 as recorded), downloaded verified by the agent, the resident and a clerk of the hall (audited); a changed file is not served', async () => {
    const created = await call(agent, 'POST', '/api/v1/agent-authorizations', {
      resident: { accountId: resident.accountId },
      validUntil: inDays(30),
      evidence: { kind: 'signed_form', sm3: sm3Hex(scan), reference: '委托书-scan' },
    });
    expect([created.status, created.body.status], created.raw).toEqual([201, 'pending']);
    const id = created.body.id as string;
    expect((await get(agent, id)).json().error.code).toBe('agent_authorization.no_scan');
    // a digest alone proves nothing: until the scan is in, the agent files nothing under it
    const early = await call(agent, 'POST', '/api/v1/cases', application(resident.idNumber, id));
    expect([early.status, early.body.error?.code]).toEqual([403, 'case.agent_not_authorized']);
    // other bytes than the recorded digest, a wrong type, an empty body, another agent: refused, nothing kept
    const wrong = await put(agent, id, Buffer.concat([scan, Buffer.from('x')]), 'image/jpeg');
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([400, 'agent_authorization.sm3_mismatch']);
    const pdf = await put(agent, id, scan, 'application/pdf');
    expect([pdf.statusCode, pdf.json().error.code]).toEqual([400, 'agent_authorization.file_type_mismatch']);
    const text = await put(agent, id, scan, 'text/plain');
    expect(text.statusCode).toBe(400);
    expect((await put(otherAgent, id, scan, 'image/jpeg')).statusCode).toBe(404);
    const ok = await put(agent, id, scan, 'image/jpeg');
    expect(ok.statusCode, ok.body).toBe(200);
    expect([ok.json().status, ok.json().inForce]).toEqual(['active', true]);
    const fileKey = ok.json().evidence.fileKey as string;
    expect(fileKey).toMatch(/\.jpg$/);
    const clerk = await staffToken('clerk-scan', 'intake_clerk');
    for (const who of [agent, resident, clerk]) {
      const r = await get(who, id);
      expect(r.statusCode, r.body).toBe(200);
      expect([r.headers['content-type'], r.headers['x-tongban-sm3']]).toEqual(['image/jpeg', sm3Hex(scan)]);
      expect(Buffer.from(r.rawPayload).equals(scan)).toBe(true);
    }
    for (const who of [stranger, otherAgent])
      expect((await get(who, id)).json().error.code).toBe('agent_authorization.not_found');
    const reads = await server.services.audit.list({
      action: 'agent_authorization.evidence_read',
      targetId: id,
    });
    expect(reads.items.map((e) => e.actor.id).sort()).toEqual(
      [agent.accountId, resident.accountId, clerk.accountId].sort(),
    );
    // the stored bytes changed behind the system's back: not served
    await server.services.files.put(`agent-authorizations/${id}/${fileKey}`, Buffer.from('changed'), {
      contentType: 'image/jpeg',
    });
    const tampered = await get(resident, id);
    expect([tampered.statusCode, tampered.json().error.code]).toEqual([
      500,
      'agent_authorization.scan_tampered',
    ]);
  });
});

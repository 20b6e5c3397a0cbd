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

async function staffToken(name: string, role: string | null): Promise<Caller> {
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

function application(idNumber: string, ref: string, itemCode = '050004001000') {
  return {
    itemCode,
    applicant: { kind: 'natural_person', name: '王小芳', idNumber },
    agent: { kind: 'village_agent', name: '李代办', authorizationRef: ref },
    channel: 'hall_window',
    intakeHallCode: KAILI_HALL,
    processingMode: 'off_site_intake',
    decidingDivisionCode: '520526',
    delivery: { method: 'pickup', hallCode: KAILI_HALL },
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
    const created = await call(agent, 'POST', '/api/v1/agent-authorizations', {
      resident: { accountId: resident.accountId },
      validUntil: inDays(30),
      evidence: { kind: 'signed_form', sm3: 'cd'.repeat(32), reference: '委托书-0001' },
    });
    expect([created.status, created.body.status]).toEqual([201, 'active']);
    const ref = created.body.id as string;
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
    const created = await call(agent, 'POST', '/api/v1/agent-authorizations', {
      resident: { accountId: resident.accountId },
      validUntil: new Date(clock().getTime() + 3_600_000).toISOString(),
      evidence: { kind: 'signed_form', sm3: 'ef'.repeat(32), reference: '委托书-0002' },
    });
    const ref = created.body.id as string;
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

/**
 * The bodies an agent's phone queues (src/web/citizen/agent/application.ts) are the ones the real server
 * takes, replayed here in the order the outbox sends them: the authorization (signed-form evidence with the
 * SM3 of the photo), the photo itself (it comes into force when the digest matches), then the case —
 * channel village_agent at the agent's hall, `agent.authorizationRef` set to the authorization's id in
 * place of the phone's placeholder — filed once however often it is replayed with its Idempotency-Key.
 * Real database, the whole app.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FormField } from '../../../domain/form.ts';
import type { RunningServer } from '../../../server/main.ts';
import { sessionCookieName } from '../../../server/modules/identity/plugin.ts';
import { sm3Hex } from '../../../server/modules/storage/service.ts';
import { startTestServer } from '../../../server/testing.ts';
import { createVillageAgent } from '../../../testing/agents.ts';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { authorizationBody, caseBody, dateInCst, pendingAuthorizationRef } from './application.ts';

const HALL = '522601-zwfw';
const ITEM = '050004001000'; // 最低生活保障申请, decided in 威宁
const PASSWORD = 'Village-Agent-Pass-3f';
const RESIDENT = {
  name: '李阿婆',
  idNumber: syntheticIdNumber('520526', '19480203', '042'),
  phone: '13900000042',
};
// a JPEG's first bytes are enough for the store: the SM3 is what is checked
const PHOTO = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.from('委托书照片'),
  Buffer.from([0xff, 0xd9]),
]);

let server: RunningServer;
let headers: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  const { identity } = server.services;
  await createVillageAgent(identity, {
    name: '凯里代办员',
    username: 'v-agent',
    password: PASSWORD,
    hallCode: HALL,
    reason: '帮办代办',
  });
  await identity.registerResident(RESIDENT);
  // the phone signs in with a cookie session, and sends its CSRF token with every write
  const s = await identity.loginWithPassword({ username: 'v-agent', password: PASSWORD }, '10.9.0.1');
  headers = {
    cookie: `${sessionCookieName(server.services.authConfig.cookieSecure)}=${s.sessionId}`,
    'x-csrf-token': s.csrfToken,
  };
});
afterAll(async () => {
  await server?.close();
});

describe('what the agent’s phone queues, as the outbox sends it', () => {
  it('authorization, its photo, then the case under it — filed once', async () => {
    const clientRef = randomUUID();
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/v1/agent-authorizations',
      headers: { ...headers, 'idempotency-key': clientRef },
      payload: authorizationBody({
        idNumber: RESIDENT.idNumber,
        itemCodes: [ITEM],
        validUntil: dateInCst(90),
        kind: 'signed_form',
        sm3: sm3Hex(PHOTO),
        clientRef,
      }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const authorization = created.json() as { id: string; status: string; evidence: { reference: string } };
    expect(authorization.status).toBe('pending');
    expect(authorization.evidence.reference).toMatch(/^帮办-[0-9a-f]{8}$/);
    const up = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/agent-authorizations/${authorization.id}/signed-form`,
      headers: { ...headers, 'content-type': 'image/jpeg' },
      payload: PHOTO,
    });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().inForce).toBe(true);

    const guide = (
      await server.app.inject({ url: `/api/v1/catalog/items/${ITEM}/guide?division=520526` })
    ).json();
    const built = caseBody({
      itemCode: ITEM,
      resident: RESIDENT,
      agent: { name: '凯里代办员', role: 'village_agent', hallCode: HALL },
      consentClientRef: clientRef,
      decidingDivisionCode: '520526',
      processingMode: 'off_site_intake',
      delivery: { method: 'pickup', hallCode: HALL },
      formFields: guide.item.formFields as FormField[],
      formData: {
        familySize: '2',
        monthlyIncome: '850.5',
        hasDisabledMember: true,
        disabilityNote: '老伴长期卧床',
      },
    });
    if (!built.ok) throw new Error(JSON.stringify(built.issues));
    expect(built.body.agent?.authorizationRef).toBe(pendingAuthorizationRef(clientRef));
    // the outbox puts the server's id in place of the placeholder
    const body = { ...built.body, agent: { ...built.body.agent!, authorizationRef: authorization.id } };
    const key = randomUUID();
    const send = () =>
      server.app.inject({
        method: 'POST',
        url: '/api/v1/cases',
        headers: { ...headers, 'idempotency-key': key },
        payload: body,
      });
    const first = await send();
    expect(first.statusCode, first.body).toBe(201);
    const replay = await send();
    expect(replay.json().case.number).toBe(first.json().case.number);
    const cases = await server.services.cases.applicantCases(RESIDENT.idNumber);
    expect(cases).toHaveLength(1);
    expect(cases[0]!.agent).toMatchObject({
      kind: 'village_agent',
      name: '凯里代办员',
      authorizationRef: authorization.id,
    });
    expect(cases[0]!.intakeHallCode).toBe(HALL);
  });

  it('the placeholder itself is never accepted as an authorization (nothing filed)', async () => {
    const built = caseBody({
      itemCode: ITEM,
      resident: RESIDENT,
      agent: { name: '凯里代办员', role: 'village_agent', hallCode: HALL },
      consentClientRef: randomUUID(),
      decidingDivisionCode: '520526',
      processingMode: 'off_site_intake',
      delivery: { method: 'pickup', hallCode: HALL },
      formFields: [],
      formData: {},
    });
    if (!built.ok) throw new Error(JSON.stringify(built.issues));
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      payload: built.body,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('case.agent_not_authorized');
    expect(await server.services.cases.applicantCases(RESIDENT.idNumber)).toHaveLength(1);
  });
});

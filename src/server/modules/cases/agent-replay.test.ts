/**
 * POST /api/v1/cases replayed with its Idempotency-Key answers the case that was filed — before the checks
 * that may have changed since (an agent's authorization revoked by the resident): the agent's outbox
 * never saw the first answer and retries. A new key under the revoked authorization is refused; the key
 * stays scoped to its caller.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { signedUpResident } from '../../../testing/residents.ts';
import type { RunningServer } from '../../main.ts';
import { recordInAppAuthorization, signedInStaff, startTestServer } from '../../testing.ts';

let server: RunningServer;
const ITEM = '200002002000'; // 社会保障卡补领
const HALL = '520102-zwfw';
const ME = { name: '王秀英', idNumber: syntheticIdNumber('520102', '19560708', '061'), phone: '13912380001' };
let me: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  me = await signedUpResident(server, ME, '10.64.0.1');
});
afterAll(async () => server?.close());

describe('an agent’s submission replayed after the authorization ended', () => {
  it('answers the case that was filed; a new key is refused; another caller’s same key is not a replay', async () => {
    const agent = await signedInStaff(server, {
      username: 'nm-agent',
      hallCode: HALL,
      grant: { role: 'village_agent', kind: 'hall', value: HALL },
    });
    const other = await signedInStaff(server, {
      username: 'nm-agent-2',
      hallCode: HALL,
      grant: { role: 'village_agent', kind: 'hall', value: HALL },
    });
    const id = await recordInAppAuthorization(server, agent.token, ME.idNumber, ITEM);
    const consent = await server.app.inject({
      method: 'POST',
      url: `/api/v1/agent-authorizations/${id}/consent`,
      headers: { ...me, 'idempotency-key': randomUUID() },
    });
    expect(consent.statusCode, consent.body).toBe(200);
    const body = {
      itemCode: ITEM,
      applicant: { kind: 'natural_person', ...ME },
      channel: 'village_agent',
      intakeHallCode: HALL,
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520102',
      delivery: { method: 'pickup', hallCode: HALL },
      formData: { reason: 'damaged', contactPhone: ME.phone },
      agent: { kind: 'village_agent', name: '张代办', authorizationRef: id },
    };
    const file = (token: string, key: string) =>
      server.app.inject({
        method: 'POST',
        url: '/api/v1/cases',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
        payload: body,
      });
    const key = randomUUID();
    const first = await file(agent.token, key);
    expect(first.statusCode, first.body).toBe(201);
    const revoke = await server.app.inject({
      method: 'POST',
      url: `/api/v1/agent-authorizations/${id}/revoke`,
      headers: { ...me, 'idempotency-key': randomUUID() },
      payload: {},
    });
    expect(revoke.statusCode, revoke.body).toBe(200);
    const replay = await file(agent.token, key);
    expect(replay.statusCode, replay.body).toBe(201);
    expect(replay.json()).toEqual(first.json());
    const fresh = await file(agent.token, randomUUID());
    expect([fresh.statusCode, fresh.json().error.code]).toEqual([403, 'case.agent_not_authorized']);
    // the same key from another agent is that agent's own request: checked (and refused) afresh
    const theirs = await file(other.token, key);
    expect([theirs.statusCode, theirs.json().error.code]).toEqual([403, 'case.agent_not_authorized']);
    // the key with another body: 409
    const changed = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { authorization: `Bearer ${agent.token}`, 'idempotency-key': key },
      payload: { ...body, formData: { reason: 'lost', contactPhone: ME.phone } },
    });
    expect([changed.statusCode, changed.json().error.code]).toEqual([409, 'idempotency.key_reused']);
  });
});

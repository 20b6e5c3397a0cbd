/**
 * 帮办代办 consent signed on the agent's phone (evidence `on_screen_signature`), on a real server: the agent
 * records the authorization with the SM3 digest of the signature PNG — from an offline outbox, so with an
 * Idempotency-Key (replays record nothing new); it is pending until that PNG is uploaded (PNG only,
 * digest checked, a whole PNG — not 8 signature bytes before anything), then in force; the record and the audit log name the kind; the agent files under it.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kailiToWeiningApplication } from '../../../testing/applications.ts';
import { testPng } from '../../../testing/png.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';
import { sm3Hex } from '../storage/service.ts';

const HALL = '522601-zwfw';
/** A signature as the signature pad exports it: a PNG. */
const SIGNATURE = testPng('signature of 王小芳', 300, 120);

/** The outbox keeps the request as written: its validUntil does not move between replays. */
const NOW = Date.now();
let server: RunningServer;
let agent: { token: string; accountId: string };
let residentId = '';
const application = kailiToWeiningApplication('601');

beforeAll(async () => {
  server = await startTestServer();
  agent = await signedInStaff(server, {
    username: 'kaili-village-agent',
    hallCode: HALL,
    grant: { role: 'village_agent', kind: 'hall', value: HALL },
  });
  residentId = (
    await server.services.identity.registerResident({
      name: '王小芳',
      idNumber: application.applicant.idNumber,
      phone: '13900601601',
    })
  ).id;
});
afterAll(async () => {
  await server?.close();
});

const record = (key: string, evidence: Record<string, unknown>, validDays = 30) =>
  server.app.inject({
    method: 'POST',
    url: '/api/v1/agent-authorizations',
    headers: { authorization: `Bearer ${agent.token}`, 'idempotency-key': key },
    payload: {
      resident: { idNumber: application.applicant.idNumber },
      itemCodes: [application.itemCode],
      validUntil: new Date(NOW + validDays * 86_400_000).toISOString(),
      evidence,
    },
  });

const upload = (id: string, bytes: Buffer, type: string) =>
  server.app.inject({
    method: 'PUT',
    url: `/api/v1/agent-authorizations/${id}/signed-form`,
    headers: { authorization: `Bearer ${agent.token}`, 'content-type': type },
    payload: bytes,
  });

const count = async () =>
  Number(
    rowsOf<{ n: number }>(
      await server.database.db.execute(sql`select count(*)::int as n from agent_authorizations`),
    )[0]!.n,
  );

describe('on-screen signature consent', () => {
  let id = '';

  it('is recorded idempotently: the same key three times → one authorization, pending', async () => {
    const key = randomUUID();
    const evidence = { kind: 'on_screen_signature', sm3: sm3Hex(SIGNATURE) };
    const before = await count();
    const answers = [await record(key, evidence), await record(key, evidence), await record(key, evidence)];
    for (const a of answers) expect(a.statusCode, a.body).toBe(201);
    id = answers[0]!.json().id;
    expect(answers.map((a) => a.json().id)).toEqual([id, id, id]);
    expect(await count()).toBe(before + 1);
    expect(answers[0]!.json()).toMatchObject({
      status: 'pending',
      inForce: false,
      residentAccountId: residentId,
      evidence: { kind: 'on_screen_signature', sm3: sm3Hex(SIGNATURE), fileKey: null },
    });
    // the same key with another request: refused, nothing recorded
    const other = await record(key, evidence, 60);
    expect([other.statusCode, other.json().error.code]).toEqual([409, 'idempotency.key_reused']);
    // without a key it still works (not idempotent); without a digest it is refused naming the field
    const noDigest = await record(randomUUID(), { kind: 'on_screen_signature', sm3: 'abc' });
    expect([noDigest.statusCode, noDigest.json().error.field]).toEqual([400, 'evidence.sm3']);
    expect(await count()).toBe(before + 1);
  });

  it('comes into force when the signature PNG with the recorded digest is uploaded (PNG only)', async () => {
    const jpeg = await upload(id, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2]), 'image/jpeg');
    expect([jpeg.statusCode, jpeg.json().error.code]).toEqual([400, 'agent_authorization.content_type']);
    const wrong = await upload(id, Buffer.concat([SIGNATURE, Buffer.from('x')]), 'image/png');
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([400, 'agent_authorization.sm3_mismatch']);
    const ok = await upload(id, SIGNATURE, 'image/png');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      status: 'active',
      inForce: true,
      evidence: { kind: 'on_screen_signature', fileKey: expect.stringMatching(/\.png$/) },
    });
    // the resident reads what she signed (audited)
    const file = await server.app.inject({
      method: 'GET',
      url: `/api/v1/agent-authorizations/${id}/signed-form`,
      headers: { authorization: `Bearer ${agent.token}` },
    });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect(file.rawPayload.equals(SIGNATURE)).toBe(true);
  });

  it('is refused when the upload is not a whole PNG, even with the recorded digest: 400 naming the file', async () => {
    const magic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const png = testPng('cut short');
    const tooBig = testPng('huge', 8001, 1);
    for (const [what, bytes] of [
      ['signature bytes + text', Buffer.concat([magic, Buffer.from('I agree — not an image')])],
      ['no IEND', png.subarray(0, png.length - 12)],
      ['bytes after IEND', Buffer.concat([png, Buffer.from('x')])],
      [
        'a chunk with a wrong CRC',
        Buffer.concat([png.subarray(0, 29), Buffer.from([png[29]! ^ 1]), png.subarray(30)]),
      ],
      ['8001 px wide', tooBig],
    ] as const) {
      const a = await record(randomUUID(), { kind: 'on_screen_signature', sm3: sm3Hex(bytes) });
      expect(a.statusCode, a.body).toBe(201);
      const r = await upload(a.json().id, bytes, 'image/png');
      expect([what, r.statusCode, r.json().error.code, r.json().error.field]).toEqual([
        what,
        400,
        'agent_authorization.png_invalid',
        'file',
      ]);
      const [row] = rowsOf<{ status: string; evidence_file_key: string | null }>(
        await server.database.db.execute(
          sql`select status, evidence_file_key from agent_authorizations where id = ${a.json().id}`,
        ),
      );
      expect([what, row]).toEqual([what, { status: 'pending', evidence_file_key: null }]);
    }
  });

  it('is recorded distinctly in the audit log', async () => {
    const rows = rowsOf<{ action: string; details: Record<string, unknown> }>(
      await server.database.db.execute(
        sql`select action, details from audit_entries where target_id = ${id} order by at`,
      ),
    );
    expect(rows.map((r) => [r.action, r.details.evidence])).toEqual([
      ['agent_authorization.create', 'on_screen_signature'],
      ['agent_authorization.evidence_upload', 'on_screen_signature'],
      ['agent_authorization.evidence_read', undefined],
    ]);
    expect(rows[0]!.details.offline).toBe(true);
  });

  it('lets the agent file for the resident under it', async () => {
    const filed = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { authorization: `Bearer ${agent.token}`, 'idempotency-key': randomUUID() },
      payload: {
        ...application,
        channel: 'village_agent',
        agent: { kind: 'village_agent', name: '村代办员', authorizationRef: id },
      },
    });
    expect(filed.statusCode, filed.body).toBe(201);
    expect(filed.json().case.agent).toMatchObject({ kind: 'village_agent', authorizationRef: id });
  });
});

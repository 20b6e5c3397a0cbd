/**
 * The applicant's own uploads (PUT /api/v1/cases/:ref/materials/:seq/file by the resident): a retry of an
 * upload that happened answers what it answered even after the case was accepted (the outbox never saw the
 * first answer), while a new upload is closed then; and at most MAX_APPLICANT_FILES_PER_MATERIAL files per
 * material (409 custody.files_limit, nothing stored).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { signedUpResident } from '../../../testing/residents.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { MAX_APPLICANT_FILES_PER_MATERIAL } from './service.ts';

let server: RunningServer;
const ITEM = '200002002000'; // 社会保障卡补领, online
const NANMING = '520102';
const ME = { name: '王秀英', idNumber: syntheticIdNumber('520102', '19560708', '051'), phone: '13912370001' };
const JPEG = (label: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(label)]);
let me: Record<string, string> = {};

const fileCase = async () => {
  const r = await server.app.inject({
    method: 'POST',
    url: '/api/v1/cases',
    headers: { ...me, 'idempotency-key': randomUUID() },
    payload: {
      itemCode: ITEM,
      applicant: { kind: 'natural_person', ...ME },
      channel: 'mobile',
      processingMode: 'online',
      decidingDivisionCode: NANMING,
      delivery: { method: 'pickup', hallCode: '520102-zwfw' },
      formData: { reason: 'damaged', contactPhone: ME.phone },
    },
  });
  expect(r.statusCode, r.body).toBe(201);
  return r.json().case.number as string;
};
const upload = (number: string, seq: number, bytes: Buffer, key: string = randomUUID()) =>
  server.app.inject({
    method: 'PUT',
    url: `/api/v1/cases/${number}/materials/${seq}/file`,
    headers: { ...me, 'idempotency-key': key, 'content-type': 'image/jpeg' },
    payload: bytes,
  });
const scansOf = async (number: string, seq: number) =>
  Number(
    rowsOf<{ n: number }>(
      await server.database.db.execute(
        sql`select count(*)::int as n from custody_events e join cases c on c.id = e.case_id where c.number = ${number} and e.material_seq = ${seq} and e.type = 'scanned'`,
      ),
    )[0]!.n,
  );

beforeAll(async () => {
  server = await startTestServer();
  me = await signedUpResident(server, ME, '10.63.0.1');
});
afterAll(async () => server?.close());

describe('applicant uploads', () => {
  it('a retry of an upload that happened answers its first result after the case was accepted; a new one is closed', async () => {
    const number = await fileCase();
    const key = randomUUID();
    const first = await upload(number, 2, JPEG('before acceptance'), key);
    expect(first.statusCode, first.body).toBe(201);
    const department = (await server.services.departments.findDepartment(
      NANMING,
      'human_resources_social_security',
    ))!.id;
    for (const type of ['receive', 'accept']) {
      const r = await server.app.inject({
        method: 'POST',
        url: `/api/v1/cases/${number}/commands`,
        headers: {
          'x-tongban-actor': `staff:hrss;department=${department}`,
          'idempotency-key': randomUUID(),
        },
        payload: { type },
      });
      expect(r.statusCode, r.body).toBe(200);
    }
    const late = await upload(number, 2, JPEG('late'));
    expect([late.statusCode, late.json().error.code]).toEqual([409, 'custody.upload_closed']);
    const replay = await upload(number, 2, JPEG('before acceptance'), key);
    expect(replay.statusCode, replay.body).toBe(201);
    expect(replay.json()).toEqual(first.json());
    // the key with other bytes is still refused, and nothing new was stored
    const other = await upload(number, 2, JPEG('other bytes'), key);
    expect([other.statusCode, other.json().error.code]).toEqual([409, 'idempotency.key_reused']);
    expect(await scansOf(number, 2)).toBe(1);
  });

  it(`at most ${MAX_APPLICANT_FILES_PER_MATERIAL} files per material: then 409 custody.files_limit, nothing stored; a replay still answers`, async () => {
    const number = await fileCase();
    const keys: string[] = [];
    for (let i = 0; i < MAX_APPLICANT_FILES_PER_MATERIAL; i++) {
      keys.push(randomUUID());
      expect((await upload(number, 1, JPEG(`photo ${i}`), keys[i])).statusCode).toBe(201);
    }
    const over = await upload(number, 1, JPEG('one too many'));
    expect([over.statusCode, over.json().error.code, over.json().error.field]).toEqual([
      409,
      'custody.files_limit',
      'seq',
    ]);
    expect(await scansOf(number, 1)).toBe(MAX_APPLICANT_FILES_PER_MATERIAL);
    expect((await upload(number, 1, JPEG('photo 0'), keys[0])).statusCode).toBe(201);
    // another material has its own count
    expect((await upload(number, 2, JPEG('other material'))).statusCode).toBe(201);
    expect(await scansOf(number, 1)).toBe(MAX_APPLICANT_FILES_PER_MATERIAL);
  });
});

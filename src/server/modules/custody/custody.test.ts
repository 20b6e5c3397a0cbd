import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import { rejectionOf } from '../../../testing/app-error.ts';
import { buildHttpApp, type HttpApp } from '../../http/app.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { installAuthentication } from '../identity/plugin.ts';
import { LocalFileStore } from '../storage/service.ts';
import { custodyRoutes } from './routes.ts';
import { CustodyService, storageKeyOf } from './service.ts';

/**
 * 材料流转 on a real server (seeded Guizhou divisions, departments, halls, sample catalog) and a real
 * folder: an 异地代收代办 case received at the 凯里 hall (522601-zwfw) and decided by the 威宁 civil
 * affairs bureau. The custody routes are not in the server yet, so they run in their own Fastify app
 * (buildHttpApp) over the server's database and services.
 */
const MAX_BYTES = 64 * 1024;
let server: RunningServer;
let app: HttpApp;
let custody: CustodyService;
let files: LocalFileStore;
let root = '';
let weiningCivil = '';
const intake = 'staff:kaili-window-1;hall=522601-zwfw';
let weining = '';

const sm3 = (b: Uint8Array) => createHash('sm3').update(b).digest('hex');
/** A small but real-looking PDF (the leading bytes are what the type check reads). */
const pdf = (text: string) => Buffer.from(`%PDF-1.7\n% ${text}\n%%EOF\n`);

function idNumber(seq: string): string {
  const first17 = `52052619800101${seq}`;
  return first17 + computeIdentityCheckCharacter(first17);
}

/** Files an 异地代收代办 application at the 凯里 window; returns its number and material seqs. */
async function newCase(seq: string): Promise<{ number: string; id: string; materials: number[] }> {
  const res = await server.app.inject({
    method: 'POST',
    url: '/api/v1/cases',
    headers: { 'x-tongban-actor': intake, 'idempotency-key': randomUUID() },
    payload: {
      itemCode: '050004001000', // 最低生活保障申请 (户籍地 decides)
      applicant: { kind: 'natural_person', name: '王小芳', idNumber: idNumber(seq), phone: '13800000001' },
      channel: 'hall_window',
      intakeHallCode: '522601-zwfw',
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520526',
      delivery: { method: 'pickup', hallCode: '522601-zwfw' },
      formData: { familySize: 3 },
    },
  });
  expect(res.statusCode).toBe(201);
  const c = res.json().case;
  expect(c.competentDepartmentId).toBe(weiningCivil);
  return { number: c.number, id: c.id, materials: c.materials.map((m: { seq: number }) => m.seq) };
}

async function call(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  o: { actor?: string; body?: unknown; key?: string; contentType?: string; raw?: Buffer | Readable } = {},
) {
  const res = await app.inject({
    method,
    url,
    headers: {
      // reads without a declared actor: a development supervisor over the province (identity/principal.ts)
      ...(o.actor || method === 'GET' ? { 'x-tongban-actor': o.actor ?? 'staff:supervisor' } : {}),
      ...(method !== 'GET' ? { 'idempotency-key': o.key ?? randomUUID() } : {}),
      ...(o.contentType ? { 'content-type': o.contentType } : {}),
    },
    ...(o.raw !== undefined ? { payload: o.raw } : o.body !== undefined ? { payload: o.body as object } : {}),
  });
  const isJson = String(res.headers['content-type'] ?? '').startsWith('application/json');
  return {
    status: res.statusCode,
    body: isJson ? res.json() : undefined,
    raw: res.rawPayload,
    headers: res.headers,
  };
}

const event = (number: string, seq: number, actor: string, body: unknown, key?: string) =>
  call('POST', `/api/v1/cases/${number}/materials/${seq}/custody`, { actor, body, ...(key ? { key } : {}) });
const upload = (
  number: string,
  seq: number,
  bytes: Buffer | Readable,
  o: { key?: string; type?: string; name?: string } = {},
) =>
  call(
    'PUT',
    `/api/v1/cases/${number}/materials/${seq}/file${o.name ? `?filename=${encodeURIComponent(o.name)}` : ''}`,
    {
      actor: intake,
      raw: bytes,
      contentType: o.type ?? 'application/pdf',
      ...(o.key ? { key: o.key } : {}),
    },
  );
const view = async (number: string) => (await call('GET', `/api/v1/cases/${number}/materials`)).body;

async function storedFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(root, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

beforeAll(async () => {
  server = await startTestServer();
  weiningCivil = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
  weining = `staff:weining-1;department=${weiningCivil}`;
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tongban-custody-'));
  files = new LocalFileStore({ root, maxBytes: MAX_BYTES });
  custody = new CustodyService(server.database.db, {
    cases: server.services.cases,
    idempotency: server.services.idempotency,
    files,
  });
  app = await buildHttpApp({
    logLevel: false,
    authenticate: (r) =>
      installAuthentication(r, { identity: server.services.identity, config: server.services.authConfig }),
    routes: [custodyRoutes({ custody, cases: server.services.cases })],
  });
});
afterAll(async () => {
  await app?.close();
  await server?.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe('the custody of a paper original in 异地代收代办, from the 凯里 window to 威宁 and back', () => {
  let c: Awaited<ReturnType<typeof newCase>>;
  let seq = 0;
  let fileKey = '';
  const scan = pdf('最低生活保障申请书 扫描件');

  beforeAll(async () => {
    c = await newCase('101');
    seq = c.materials[0]!;
  });

  it('starts with every material of the checklist and nothing received', async () => {
    const v = await view(c.number);
    expect(v.caseNumber).toBe(c.number);
    expect(v.materials.map((m: { seq: number }) => m.seq)).toEqual(c.materials);
    expect(v.materials[0]).toMatchObject({
      original: 'not_received',
      files: [],
      events: [],
      allowedNext: ['received'],
    });
  });

  it('receives the original, verifies it (核验原件), scans it with its SM3 digest, forwards the scan', async () => {
    const r = await event(c.number, seq, intake, { type: 'received', as: 'original', count: 1 });
    expect(r.status).toBe(201);
    expect(r.body.material.original).toBe('intake_hall');
    expect(r.body.event).toMatchObject({
      seq: 1,
      type: 'received',
      actor: { kind: 'staff', id: 'kaili-window-1', hallCode: '522601-zwfw' },
      data: { as: 'original', count: 1 },
    });

    const v = await event(c.number, seq, intake, { type: 'verified_against_original' });
    expect(v.status).toBe(201);
    expect(v.body.material.verification).toMatchObject({ consistent: true });

    const u = await upload(c.number, seq, scan, { name: '低保申请书.pdf' });
    expect(u.status).toBe(201);
    const data = u.body.event.data;
    expect(data).toMatchObject({
      sm3: sm3(scan),
      bytes: scan.length,
      contentType: 'application/pdf',
      filename: '低保申请书.pdf',
    });
    expect(data.sm3).toMatch(/^[0-9a-f]{64}$/);
    fileKey = data.fileKey;
    expect(fileKey).toMatch(/^[0-9a-f-]{36}\.pdf$/);
    expect(await storedFiles()).toContain(storageKeyOf(c.id, seq, fileKey));

    const f = await event(c.number, seq, intake, { type: 'forwarded_electronically' });
    expect(f.status).toBe(201);
    expect(f.body.event.data).toMatchObject({ departmentId: weiningCivil, fileKey, sm3: sm3(scan) });
    expect(f.body.material.files[0].forwardedAt).toBe(f.body.event.at);
  });

  it('ships the original with its tracking number; the 威宁 bureau receives it; the original is returned', async () => {
    const s = await event(c.number, seq, intake, {
      type: 'shipped',
      carrier: '中国邮政 EMS',
      trackingNumber: 'EA123456789CN',
    });
    expect(s.status).toBe(201);
    expect(s.body.material).toMatchObject({
      original: 'in_transit',
      shipment: { carrier: '中国邮政 EMS', trackingNumber: 'EA123456789CN', receivedAt: null },
    });

    const notThem = await event(c.number, seq, intake, { type: 'shipment_received' });
    expect([notThem.status, notThem.body.error.code]).toEqual([403, 'custody.not_allowed']);
    const got = await event(c.number, seq, weining, {
      type: 'shipment_received',
      trackingNumber: 'EA123456789CN',
    });
    expect(got.status).toBe(201);
    expect(got.body.material).toMatchObject({
      original: 'competent_department',
      shipment: { condition: 'intact' },
    });

    const back = await event(c.number, seq, intake, { type: 'returned', note: '原件已当面退还申请人' });
    expect(back.status).toBe(201);
    expect(back.body.material.original).toBe('returned');

    const m = (await view(c.number)).materials.find((x: { seq: number }) => x.seq === seq);
    expect(m.events.map((e: { type: string }) => e.type)).toEqual([
      'received',
      'verified_against_original',
      'scanned',
      'forwarded_electronically',
      'shipped',
      'shipment_received',
      'returned',
    ]);
    expect(m.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(m.returnedAt).toBe(back.body.event.at);
    expect(m.currentFileKey).toBe(fileKey);
    expect(m.allowedNext).toEqual(['received', 'scanned']);
  });

  it('downloads the scan to the staff on both sides, verified, with its digest', async () => {
    for (const actor of [intake, weining]) {
      const d = await call('GET', `/api/v1/cases/${c.number}/materials/${seq}/files/${fileKey}`, { actor });
      expect(d.status).toBe(200);
      expect(Buffer.compare(d.raw, scan)).toBe(0);
      expect(d.headers['content-type']).toBe('application/pdf');
      expect(d.headers['x-tongban-sm3']).toBe(sm3(scan));
      expect(d.headers['x-content-type-options']).toBe('nosniff');
      expect(d.headers['content-disposition']).toContain(
        `filename*=UTF-8''${encodeURIComponent('低保申请书.pdf')}`,
      );
    }
    const outsider = await call('GET', `/api/v1/cases/${c.number}/materials/${seq}/files/${fileKey}`, {
      actor: 'staff:guiyang-1;hall=520102-zwfw',
    });
    expect([outsider.status, outsider.body.error.code]).toEqual([404, 'case.not_found']);
  });

  it('keeps re-uploads as history; the last scan is current and can be forwarded again', async () => {
    const again = pdf('重新扫描, 更清晰');
    const u = await upload(c.number, seq, again);
    expect(u.status).toBe(201);
    expect(u.body.material.files.map((f: { sm3: string }) => f.sm3)).toEqual([sm3(scan), sm3(again)]);
    expect(u.body.material.currentFileKey).toBe(u.body.event.data.fileKey);
    expect(u.body.material.allowedNext).toContain('forwarded_electronically');
    const f = await event(c.number, seq, intake, { type: 'forwarded_electronically' });
    expect(f.body.event.data.fileKey).toBe(u.body.event.data.fileKey);
  });
});

describe('illegal orders and wrong people: 409/403 with what is allowed, and nothing changes', () => {
  it('refuses out-of-order events with messages that say what is allowed now', async () => {
    const c = await newCase('102');
    const seq = c.materials[1]!;
    const before = await view(c.number);
    const filesBefore = await storedFiles();

    const ship = await event(c.number, seq, intake, {
      type: 'shipped',
      carrier: 'EMS',
      trackingNumber: 'EA000000001CN',
    });
    expect([ship.status, ship.body.error.code]).toEqual([409, 'custody.out_of_order']);
    expect(ship.body.error.message).toContain('the original has not been received');
    expect(ship.body.error.message).toContain('Allowed now: received.');

    const rcv = await event(c.number, seq, weining, { type: 'shipment_received' });
    expect([rcv.status, rcv.body.error.code]).toEqual([409, 'custody.out_of_order']);
    expect(rcv.body.error.message).toContain('no shipment is on its way');

    const fwd = await event(c.number, seq, intake, { type: 'forwarded_electronically' });
    expect([fwd.status, fwd.body.error.code]).toEqual([409, 'custody.out_of_order']);
    const ret = await event(c.number, seq, intake, { type: 'returned' });
    expect([ret.status, ret.body.error.code]).toEqual([409, 'custody.out_of_order']);
    const ver = await event(c.number, seq, intake, { type: 'verified_against_original' });
    expect(ver.status).toBe(409);

    const scanFirst = await upload(c.number, seq, pdf('too early'));
    expect([scanFirst.status, scanFirst.body.error.code]).toEqual([409, 'custody.out_of_order']);
    expect(scanFirst.body.error.message).toContain('nothing has been received yet');

    expect(await view(c.number)).toEqual(before);
    expect(await storedFiles()).toEqual(filesBefore);
  });

  it('refuses a second original, a copy returned, a wrong tracking number, a double return', async () => {
    const c = await newCase('103');
    const [a, b] = [c.materials[0]!, c.materials[1]!];
    expect((await event(c.number, a, intake, { type: 'received', as: 'original' })).status).toBe(201);
    const twice = await event(c.number, a, intake, { type: 'received', as: 'original' });
    expect([twice.status, twice.body.error.message]).toEqual([
      409,
      expect.stringContaining('the original is at the intake hall already'),
    ]);
    expect((await event(c.number, a, intake, { type: 'verified_against_original' })).status).toBe(201);
    const verifyAgain = await event(c.number, a, intake, { type: 'verified_against_original' });
    expect(verifyAgain.status).toBe(409);

    expect((await event(c.number, b, intake, { type: 'received', as: 'copy', count: 2 })).status).toBe(201);
    const returnCopy = await event(c.number, b, intake, { type: 'returned' });
    expect([returnCopy.status, returnCopy.body.error.message]).toEqual([
      409,
      expect.stringContaining('only an original is returned'),
    ]);
    const shipCopy = await event(c.number, b, intake, {
      type: 'shipped',
      carrier: 'EMS',
      trackingNumber: 'EA000000002CN',
    });
    expect(shipCopy.status).toBe(409);

    expect(
      (
        await event(c.number, a, intake, {
          type: 'shipped',
          carrier: '顺丰速运',
          trackingNumber: 'SF1234567890',
        })
      ).status,
    ).toBe(201);
    const returnInTransit = await event(c.number, a, intake, { type: 'returned' });
    expect([returnInTransit.status, returnInTransit.body.error.message]).toEqual([
      409,
      expect.stringContaining('record shipment_received first'),
    ]);
    const wrong = await event(c.number, a, weining, {
      type: 'shipment_received',
      trackingNumber: 'SF0000000000',
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([409, 'custody.tracking_mismatch']);
    expect(wrong.body.error.message).toContain('顺丰速运 SF1234567890');
    expect(
      (await event(c.number, a, weining, { type: 'shipment_received', condition: 'damaged' })).status,
    ).toBe(201);
    // the competent department, holding the original, may return it itself
    expect((await event(c.number, a, weining, { type: 'returned' })).status).toBe(201);
    const before = await view(c.number);
    const again = await event(c.number, a, intake, { type: 'returned' });
    expect([again.status, again.body.error.code]).toEqual([409, 'custody.out_of_order']);
    expect(again.body.error.message).toContain('it was already returned at');
    expect(await view(c.number)).toEqual(before);
    const m = before.materials.find((x: { seq: number }) => x.seq === a);
    expect(m.shipment).toMatchObject({ carrier: '顺丰速运', condition: 'damaged' });
  });

  it('refuses the wrong staff, a malformed event, scanned by POST, and unknown cases or materials', async () => {
    const c = await newCase('104');
    const seq = c.materials[0]!;
    const otherHall = await event(c.number, seq, 'staff:guiyang-1;hall=520102-zwfw', {
      type: 'received',
      as: 'original',
    });
    expect([otherHall.status, otherHall.body.error.code]).toEqual([404, 'case.not_found']);
    // 404 rule: a case the caller cannot see is not described (no hall, no applicant in the message)
    expect(otherHall.body.error.message).not.toContain('522601-zwfw');
    const applicant = await event(c.number, seq, 'applicant:wang', { type: 'received', as: 'original' });
    expect(applicant.status).toBe(404); // not wang’s case: to a resident it does not exist
    const bad = await event(c.number, seq, intake, { type: 'received', as: 'photocopy' });
    expect([bad.status, bad.body.error.field]).toEqual([400, 'as']);
    const noTracking = await event(c.number, seq, intake, { type: 'shipped', carrier: 'EMS' });
    expect(noTracking.status).toBe(400);
    const scanned = await rejectionOf(
      custody.record(
        c.number,
        seq,
        { type: 'scanned' },
        { actor: { kind: 'staff', id: 'x', hallCode: '522601-zwfw' }, idempotencyKey: randomUUID() },
      ),
    );
    expect([scanned.status, scanned.code]).toEqual([400, 'custody.scan_by_upload']);
    const noMaterial = await event(c.number, 99, intake, { type: 'received', as: 'original' });
    expect([noMaterial.status, noMaterial.body.error.code]).toEqual([404, 'custody.material_not_found']);
    const noCase = await event('522601202601010000000', 1, intake, { type: 'received', as: 'original' });
    expect([noCase.status, noCase.body.error.code]).toEqual([404, 'case.not_found']);
    const noActor = await call('POST', `/api/v1/cases/${c.number}/materials/${seq}/custody`, {
      body: { type: 'received', as: 'copy' },
    });
    // nobody signed in: 401 naming how to sign in
    expect([noActor.status, noActor.body.error.code]).toEqual([401, 'auth.required']);
    expect((await view(c.number)).materials[0].events).toEqual([]);
  });
});

describe('safe retries, limits and tamper evidence', () => {
  let c: Awaited<ReturnType<typeof newCase>>;
  let seq = 0;
  beforeAll(async () => {
    c = await newCase('105');
    seq = c.materials[0]!;
    expect((await event(c.number, seq, intake, { type: 'received', as: 'electronic' })).status).toBe(201);
  });

  it('replays an event with the same idempotency key: one event, the first answer', async () => {
    const key = randomUUID();
    const other = c.materials[1]!;
    const first = await event(c.number, other, intake, { type: 'received', as: 'copy', count: 3 }, key);
    const replay = await event(c.number, other, intake, { type: 'received', as: 'copy', count: 3 }, key);
    expect(first.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    const reused = await event(c.number, other, intake, { type: 'received', as: 'copy', count: 4 }, key);
    expect([reused.status, reused.body.error.code]).toEqual([409, 'idempotency.key_reused']);
    const m = (await view(c.number)).materials.find((x: { seq: number }) => x.seq === other);
    expect(m.events).toHaveLength(1);
    expect(m.received.copy).toBe(3);
  });

  it('replays an upload with the same idempotency key: one file stored, one event, the first answer', async () => {
    const key = randomUUID();
    const bytes = pdf('一次上传');
    const before = await storedFiles();
    const first = await upload(c.number, seq, bytes, { key });
    const replay = await upload(c.number, seq, bytes, { key });
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    const after = await storedFiles();
    expect(after.filter((f) => !before.includes(f))).toEqual([
      storageKeyOf(c.id, seq, first.body.event.data.fileKey),
    ]);
    // the same key with other bytes is refused, and leaves no file behind
    const reused = await upload(c.number, seq, pdf('other bytes'), { key });
    expect([reused.status, reused.body.error.code]).toEqual([409, 'idempotency.key_reused']);
    expect(await storedFiles()).toEqual(after);
    const m = (await view(c.number)).materials[0];
    expect(m.files).toHaveLength(1);
  });

  it('refuses a body past FILES_MAX_BYTES with 413 file.too_large, by Content-Length or while streaming', async () => {
    const before = await storedFiles();
    const events = (await view(c.number)).materials[0].events.length;
    const big = Buffer.concat([pdf('big'), Buffer.alloc(MAX_BYTES)]);
    const r = await upload(c.number, seq, big);
    expect([r.status, r.body.error.code]).toEqual([413, 'file.too_large']);
    expect(r.body.error.message).toContain(`limit of ${MAX_BYTES} bytes`);
    // no Content-Length (chunked): the store counts while writing
    const streamed = Readable.from(
      (function* () {
        for (let i = 0; i < 20; i++) yield Buffer.concat([pdf(String(i)), Buffer.alloc(8 * 1024)]);
      })(),
    );
    const r2 = await upload(c.number, seq, streamed);
    expect([r2.status, r2.body.error.code]).toEqual([413, 'file.too_large']);
    const e = await rejectionOf(
      custody.upload(
        c.number,
        seq,
        big,
        { contentType: 'application/pdf' },
        { actor: { kind: 'staff', id: 'k', hallCode: '522601-zwfw' }, idempotencyKey: randomUUID() },
      ),
    );
    expect([e.status, e.code]).toEqual([413, 'file.too_large']);
    expect(await storedFiles()).toEqual(before);
    expect((await view(c.number)).materials[0].events).toHaveLength(events);
  });

  it('checks the bytes against the Content-Type, and refuses empty files and other types', async () => {
    const before = await storedFiles();
    const png = await upload(c.number, seq, pdf('not a png'), { type: 'image/png' });
    expect([png.status, png.body.error.code]).toEqual([400, 'custody.file_type_mismatch']);
    const empty = await upload(c.number, seq, Buffer.alloc(0));
    expect(empty.status).toBe(400);
    const text = await upload(c.number, seq, Buffer.from('hello'), { type: 'text/plain' });
    expect(text.status).toBeGreaterThanOrEqual(400);
    const badName = await upload(c.number, seq, pdf('x'), { name: '../../etc/passwd' });
    expect([badName.status, badName.body.error.code]).toEqual([400, 'custody.filename_invalid']);
    expect(await storedFiles()).toEqual(before);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    expect((await upload(c.number, seq, jpeg, { type: 'image/jpeg' })).body.event.data.fileKey).toMatch(
      /\.jpg$/,
    );
    const bin = await upload(c.number, seq, Buffer.from('any bytes'), { type: 'application/octet-stream' });
    expect(bin.status).toBe(201);
  });

  it('refuses path-traversal file keys', async () => {
    for (const key of ['..%2F..%2F..%2Fetc%2Fpasswd', '..', '%2e%2e', 'x.pdf', `${randomUUID()}.pdf%00`]) {
      const r = await call('GET', `/api/v1/cases/${c.number}/materials/${seq}/files/${key}`, {
        actor: intake,
      });
      // a bare `..` (also as %2e%2e) is resolved away by URL normalisation before routing (404 no such endpoint)
      expect([key, r.status]).toEqual([key, key === '..' || key === '%2e%2e' ? 404 : 400]);
      expect(r.raw.toString()).not.toContain('root:'); // nothing served
    }
    const e = await rejectionOf(
      custody.download(c.number, seq, '../../../../etc/passwd', {
        actor: { kind: 'staff', id: 'k', hallCode: '522601-zwfw' },
      }),
    );
    expect([e.status, e.code]).toEqual([400, 'file.key_unsafe']);
    const unknown = await call(
      'GET',
      `/api/v1/cases/${c.number}/materials/${seq}/files/${randomUUID()}.pdf`,
      { actor: intake },
    );
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'custody.file_not_found']);
  });

  it('detects a file changed on disk after upload and does not serve it', async () => {
    const bytes = pdf('原始扫描件');
    const u = await upload(c.number, seq, bytes);
    const key = u.body.event.data.fileKey;
    const url = `/api/v1/cases/${c.number}/materials/${seq}/files/${key}`;
    expect((await call('GET', url, { actor: intake })).status).toBe(200);
    const onDisk = path.join(root, storageKeyOf(c.id, seq, key));
    const tampered = Buffer.from(bytes);
    const at = tampered.length - 3;
    tampered[at] = tampered[at]! ^ 0x01; // one bit, same size
    await fs.writeFile(onDisk, tampered);
    const r = await call('GET', url, { actor: intake });
    expect([r.status, r.body.error.code]).toEqual([500, 'custody.file_tampered']);
    expect(r.body.error.message).toContain(sm3(bytes));
    expect(r.body.error.message).toContain(sm3(tampered));
    await fs.writeFile(onDisk, Buffer.concat([bytes, Buffer.from('appended')]));
    expect((await call('GET', url, { actor: intake })).body.error.code).toBe('custody.file_tampered');
    await fs.rm(onDisk);
    expect((await call('GET', url, { actor: intake })).body.error.code).toBe('custody.file_missing');
  });

  it('serialises concurrent writers of one material: of two shipments of one original, one wins', async () => {
    const other = c.materials[2]!;
    expect((await event(c.number, other, intake, { type: 'received', as: 'original' })).status).toBe(201);
    const [a, b] = await Promise.all([
      event(c.number, other, intake, { type: 'shipped', carrier: 'EMS', trackingNumber: 'EA000000011CN' }),
      event(c.number, other, intake, { type: 'shipped', carrier: 'EMS', trackingNumber: 'EA000000012CN' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const m = (await view(c.number)).materials.find((x: { seq: number }) => x.seq === other);
    expect(m.events.map((e: { type: string }) => e.type)).toEqual(['received', 'shipped']);
  });
});

describe('OpenAPI', () => {
  it('documents the custody endpoints (the event union, the binary download)', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    expect(
      Object.keys(paths)
        .filter((p) => p.includes('/materials'))
        .sort(),
    ).toEqual([
      '/api/v1/cases/{ref}/materials',
      '/api/v1/cases/{ref}/materials/{seq}/custody',
      '/api/v1/cases/{ref}/materials/{seq}/file',
      '/api/v1/cases/{ref}/materials/{seq}/files/{key}',
    ]);
    expect(JSON.stringify(doc.components.schemas.CustodyEventInput)).toContain('shipment_received');
    expect(JSON.stringify(doc.components.schemas.MaterialCustody)).toContain('competent_department');
  });
});

describe('over a real socket', () => {
  it('answers a chunked upload past the limit with the 413 (the connection is not reset), and a good one with 201', async () => {
    const c = await newCase('106');
    const seq = c.materials[0]!;
    expect((await event(c.number, seq, intake, { type: 'received', as: 'copy' })).status).toBe(201);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const put = (chunks: number) =>
      fetch(`${url}/api/v1/cases/${c.number}/materials/${seq}/file`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/pdf',
          'x-tongban-actor': intake,
          'idempotency-key': randomUUID(),
        },
        body: Readable.toWeb(
          Readable.from(
            (function* () {
              yield pdf('chunked');
              for (let i = 0; i < chunks; i++) yield Buffer.alloc(16 * 1024, i);
            })(),
          ),
        ) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
    const big = await put(8); // 128 KiB > 64 KiB, no Content-Length
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('file.too_large');
    const ok = await put(2);
    expect(ok.status).toBe(201);
    const body = (await ok.json()) as { event: { data: { bytes: number } } };
    expect(body.event.data.bytes).toBe(pdf('chunked').length + 2 * 16 * 1024);
  });
});

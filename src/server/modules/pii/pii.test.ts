import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPiiFlow, syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { loadConfig } from '../../config.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { CasesService, LEGACY_PAYLOAD_KEYS, sealLegacyCasePayload } from '../cases/service.ts';
import { NotificationsService } from '../notifications/service.ts';
import { SettingsService } from '../settings/service.ts';
import {
  maskAddress,
  maskIdNumber,
  maskName,
  maskPhone,
  PiiVault,
  parsePiiKeys,
  StaticKeyProvider,
} from './service.ts';

const key = (id: string) => ({ id, key: randomBytes(32) });
const hashKey = 'h'.repeat(40);

describe('PiiVault (SM4-CBC + HMAC-SM3 envelopes)', () => {
  const k1 = key('k1');
  const vault = new PiiVault(new StaticKeyProvider([k1]), { hashKey });

  it('seals into a self-describing envelope and opens it again', () => {
    const env = vault.encrypt('520102199003071234', 'idNumber');
    expect(env).toMatch(/^sm4cbc-sm3:v1:k1:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{86}$/);
    expect(env).not.toContain('1234');
    expect(vault.decrypt(env)).toBe('520102199003071234');
    expect(vault.encrypt('520102199003071234', 'idNumber')).not.toBe(env); // fresh IV each time
    expect(vault.decrypt(vault.encrypt('贵州省贵阳市云岩区中华北路1号', 'address'))).toBe(
      '贵州省贵阳市云岩区中华北路1号',
    );
    expect(vault.decrypt(vault.encrypt('', 'phone'))).toBe('');
    expect(vault.keyIdOf(env)).toBe('k1');
    expect(vault.unseal('13800000000')).toBe('13800000000'); // legacy plaintext reads as is
  });

  it('refuses tampered envelopes, unknown keys and non-envelopes with stable codes', () => {
    const env = vault.encrypt('13812345678', 'phone');
    const parts = env.split(':');
    const body = Buffer.from(parts[4]!, 'base64url');
    body[0]! ^= 1;
    const tampered = [...parts.slice(0, 4), body.toString('base64url')].join(':');
    expect(() => vault.decrypt(tampered)).toThrow(expect.objectContaining({ code: 'pii.tampered' }));
    const relabelled = env.replace(':k1:', ':k0:');
    expect(() => vault.decrypt(relabelled)).toThrow(expect.objectContaining({ code: 'pii.unknown_key' }));
    expect(() => vault.decrypt('13812345678')).toThrow(
      expect.objectContaining({ code: 'pii.not_an_envelope', field: 'envelope' }),
    );
    expect(() => vault.encrypt(42 as unknown as string, 'phone')).toThrow(
      expect.objectContaining({ kind: 'validation', field: 'phone' }),
    );
  });

  it('rotates: the new key seals, older keys still open, reseal moves values to the current key', () => {
    const old = vault.encrypt('13812345678', 'phone');
    const rotated = new PiiVault(new StaticKeyProvider([key('k2'), k1]), { hashKey });
    expect(rotated.currentKeyId()).toBe('k2');
    expect(rotated.staleKeyIds()).toEqual(['k1']);
    expect(rotated.decrypt(old)).toBe('13812345678');
    const resealed = rotated.reseal(old, 'phone');
    expect(rotated.keyIdOf(resealed)).toBe('k2');
    expect(rotated.decrypt(resealed)).toBe('13812345678');
    expect(rotated.reseal(resealed, 'phone')).toBe(resealed); // already current: unchanged
    expect(rotated.keyIdOf(rotated.reseal('13800000000', 'phone'))).toBe('k2'); // plaintext sealed
    expect(() => vault.decrypt(resealed)).toThrow(expect.objectContaining({ code: 'pii.unknown_key' }));
  });

  it('blind index: HMAC-SM3 of the upper-cased identifier, as cases.applicant_key always was', () => {
    const id = '52010219900307123x';
    expect(vault.blindIndex(id, 'identifier')).toBe(
      createHmac('sm3', hashKey).update(id.toUpperCase()).digest('hex'),
    );
    expect(vault.blindIndex(' 138 1234 5678 ', 'phone')).toBe(vault.blindIndex('13812345678', 'phone'));
    expect(vault.blindIndex('13812345678', 'phone')).not.toBe(vault.blindIndex('13812345678', 'identifier'));
    const otherKey = new PiiVault(new StaticKeyProvider([k1]), { hashKey: 'x'.repeat(40) });
    expect(otherKey.blindIndex(id, 'identifier')).not.toBe(vault.blindIndex(id, 'identifier'));
  });

  it('masks ID numbers, phones, names and addresses', () => {
    expect(maskIdNumber('520102199003071234')).toBe('5201**********1234');
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskName('王小芳')).toBe('王**');
    expect(maskAddress('贵州省贵阳市云岩区中华北路1号')).toBe('贵州省贵阳市…');
  });

  it('reads PII_ENCRYPTION_KEYS (first current) and names the variable for bad values', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(16).toString('base64url');
    const keys = parsePiiKeys(`k2026:${a},k2025:${b}`);
    expect(keys.map((k) => [k.id, k.key.length])).toEqual([
      ['k2026', 32],
      ['k2025', 16],
    ]);
    expect(loadConfig({ PII_ENCRYPTION_KEYS: `k1:${a}` }).piiEncryptionKeys?.[0]?.id).toBe('k1');
    expect(loadConfig({}).piiEncryptionKeys).toBeUndefined();
    for (const bad of [`k1${a}`, `k:1:${a}`, `k1:${randomBytes(20).toString('base64')}`, `k1:${a},k1:${a}`]) {
      let error: unknown;
      try {
        loadConfig({ PII_ENCRYPTION_KEYS: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'config.invalid', field: 'PII_ENCRYPTION_KEYS' });
      expect(String((error as Error).message)).not.toContain(a);
    }
  });
});

describe('personal data in the case engine', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  const db = () => server.database.db;
  const inject = async (url: string, actor: string, body: unknown) => {
    const res = await server.app.inject({
      method: 'POST',
      url,
      headers: { 'x-tongban-actor': actor },
      payload: body as object,
    });
    return { status: res.statusCode, body: res.json() };
  };
  const submit = async (idNumber: string, phone: string) => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { 'x-tongban-actor': 'staff:w1;hall=520102-zwfw', 'idempotency-key': randomUUID() },
      payload: {
        itemCode: '200001001000',
        applicant: { kind: 'natural_person', name: '陈静', idNumber, phone },
        channel: 'hall_window',
        intakeHallCode: '520102-zwfw',
        processingMode: 'any_hall',
        decidingDivisionCode: '520103',
        delivery: { method: 'mail', recipient: '陈静', phone, address: '贵州省贵阳市云岩区中华北路1号' },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().case as { id: string; number: string; applicant: Record<string, string> };
  };
  const rawCase = async (id: string) =>
    rowsOf<{
      applicant: Record<string, string>;
      delivery: { preference: Record<string, string> };
      pii_key_id: string;
      applicant_key: string;
    }>(
      await db().execute(
        sql`select applicant, delivery, pii_key_id, applicant_key from cases where id = ${id}`,
      ),
    )[0]!;

  it('stores the ID number, phone and mailing details only as envelopes; views stay masked', async () => {
    const id = syntheticIdNumber('520103', '19920303', '551');
    const c = await submit(id, '13900005551');
    expect(c.applicant.idNumber).toBe(maskIdNumber(id));
    expect(c.applicant.phone).toBe('139****5551');
    const raw = await rawCase(c.id);
    expect(raw.applicant.idNumber).toMatch(/^sm4cbc-sm3:v1:dev:/);
    expect(raw.applicant.phone).toMatch(/^sm4cbc-sm3:v1:dev:/);
    expect(raw.delivery.preference.address).toMatch(/^sm4cbc-sm3:v1:dev:/);
    expect(raw.delivery.preference.recipient).toMatch(/^sm4cbc-sm3:v1:dev:/);
    expect(raw.pii_key_id).toBe('dev');
    expect(raw.applicant_key).toBe(server.services.pii.blindIndex(id, 'identifier'));
    expect(server.services.pii.decrypt(raw.applicant.idNumber!)).toBe(id);
    const found = await server.services.cases.applicantCases(id);
    expect(found.map((x) => x.number)).toEqual([c.number]);
    const view = await server.services.cases.get(c.number);
    expect((view.delivery as { preference: Record<string, string> }).preference).toMatchObject({
      phone: '139****5551',
      address: '贵州省贵阳市…',
      recipient: '陈**',
    });
  });

  it('reveals the full values only for a stated purpose to staff handling the case, and audits each read', async () => {
    const id = syntheticIdNumber('520103', '19920303', '662');
    const c = await submit(id, '13900006662');
    const url = `/api/v1/cases/${c.number}/applicant/reveal`;
    const reads = async () =>
      (
        await server.services.audit.list({ action: 'pii.read_full', targetId: c.id, limit: 50 })
      ).items.reverse();
    // A purpose that carries the data it is about is refused (it would put it into the audit log).
    const leaky = await inject(url, 'staff:w1;hall=520102-zwfw', { purpose: `核验 ${id}` });
    expect([leaky.status, leaky.body.error.code, leaky.body.error.field]).toEqual([
      400,
      'audit.sensitive_details',
      'purpose',
    ]);
    const noPurpose = await inject(url, 'staff:w1;hall=520102-zwfw', { purpose: ' ' });
    expect([noPurpose.status, noPurpose.body.error.code, noPurpose.body.error.field]).toEqual([
      400,
      'pii.purpose_required',
      'purpose',
    ]);
    const stranger = await inject(url, 'staff:x;hall=522601-zwfw', { purpose: '核验原件' });
    // a hall that neither received the case nor decides it does not see it (404, cases/policy.ts)
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'case.not_found']);
    const applicant = await inject(url, 'applicant:chen', { purpose: '核验原件' });
    expect(applicant.status).toBe(404); // not chen’s case (filed by staff): a resident sees only their own
    expect(await reads()).toEqual([]);
    const ok = await inject(url, 'staff:w1;hall=520102-zwfw', { purpose: '核验原件' });
    expect(ok.status).toBe(200);
    expect(ok.body.applicant).toMatchObject({ idNumber: id, phone: '13900006662' });
    expect(ok.body.revealed).toEqual(['applicant.idNumber', 'applicant.phone']);
    const recorded = await reads();
    expect(recorded.map((r) => [r.details.fields, r.purpose, r.actor.id, r.details.caseNumber])).toEqual([
      [['applicant.idNumber', 'applicant.phone'], '核验原件', 'w1', c.number],
    ]);
    const competent = (await server.services.cases.get(c.number)).competentDepartmentId!;
    const dept = await server.services.cases.revealApplicant(c.number, {
      actor: { kind: 'staff', id: 'yy', departmentId: competent },
      purpose: '审查',
    });
    expect(dept.applicant.idNumber).toBe(id);
    expect(await reads()).toHaveLength(2);
  });

  it('rotates to a new key without downtime and seals rows written before encryption', async () => {
    const flow = await runPiiFlow(server, '7');
    const settings = new SettingsService(db());
    const dev = await settings.getOrCreate('pii_encryption_key', () => 'unused');
    const piiHashKey = await settings.getOrCreate('pii_hash_key', () => 'unused');
    const vault2 = new PiiVault(
      new StaticKeyProvider([key('k2'), { id: 'dev', key: Buffer.from(dev, 'base64url') }]),
      { hashKey: piiHashKey },
    );
    const s = server.services;
    const cases2 = new CasesService(db(), { ...s, pii: vault2 }, { piiHashKey });
    const notifications2 = new NotificationsService(db(), { vault: vault2 });
    vault2.register({ name: 'cases', reseal: (n) => cases2.resealPii(n) });
    vault2.register({ name: 'notifications', reseal: (n) => notifications2.resealPii(n) });
    vault2.register({
      name: 'outbox',
      reseal: (n) =>
        s.outbox.rewritePayloads(LEGACY_PAYLOAD_KEYS, n, (p) => sealLegacyCasePayload(vault2, p)),
    });

    // A case and an SMS written before encryption existed (plaintext, no key id).
    const legacyId = syntheticIdNumber('520103', '19850505', '773');
    const legacy = await submit(legacyId, '13900007773');
    await db().execute(sql`update cases set pii_key_id = null,
      applicant = jsonb_build_object('kind', 'natural_person', 'name', '旧', 'idNumber', ${legacyId}::text, 'phone', '13900007773'::text)
      where id = ${legacy.id}`);
    await db().execute(sql`update notification_messages set pii_key_id = null, address_sealed = null,
      address = '13900007773', body = '【贵州通办】请凭取件码 123456 到大厅领取办理结果。', body_sealed = null
      where id = (select id from notification_messages where channel = 'sms' order by created_at limit 1)`);
    await db().execute(sql`insert into outbox (topic, aggregate_type, aggregate_id, payload, dispatched_at)
      values ('case.decided', 'case', ${legacy.id}, ${JSON.stringify({
        caseId: legacy.id,
        caseNumber: legacy.number,
        itemName: '居民身份证换领',
        applicant: { name: '旧', phone: '13900007773' },
        pickupCode: '123456',
      })}::jsonb, now())`);
    expect((await s.cases.get(legacy.number)).applicant.idNumber).toBe(maskIdNumber(legacyId)); // still readable

    // Step by step: one row per store, reads work in between (old and new keys both open).
    const first = await vault2.rotate(1);
    expect(first).toEqual({ cases: 1, notifications: 1, outbox: 1 });
    for (const n of flow.caseNumbers) expect((await cases2.get(n)).applicant.idNumber).toMatch(/^\d{4}\*+/);
    let total = 2;
    for (let r = await vault2.rotate(50); Object.values(r).some((v) => v > 0); r = await vault2.rotate(50))
      total += Object.values(r).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(4);
    const keyIds = rowsOf<{ k: string | null; n: number | string }>(
      await db().execute(sql`select pii_key_id as k, count(*) as n from cases group by 1
        union all select pii_key_id, count(*) from notification_messages where pii_key_id <> 'none' group by 1`),
    );
    expect(keyIds.map((r) => r.k)).toEqual(['k2', 'k2']);
    const raw = await rawCase(legacy.id);
    expect(raw.applicant.idNumber).toMatch(/^sm4cbc-sm3:v1:k2:/);
    expect(vault2.decrypt(raw.applicant.idNumber!)).toBe(legacyId);
    const sms = rowsOf<{ address: string; body: string; body_sealed: string | null; address_sealed: string }>(
      await db().execute(sql`select address, body, body_sealed, address_sealed from notification_messages
        where body like '%取件码 ******%' and channel = 'sms' order by body_sealed nulls first`),
    );
    // The flow's SMS with the code was delivered: only the redacted text is left. The legacy one is sealed.
    expect(sms.map((m) => m.body_sealed === null)).toEqual([true, false]);
    sms.shift();
    expect(sms[0]!.address).toBe(`bi:${vault2.blindIndex('13900007773', 'phone')}`);
    expect(vault2.decrypt(sms[0]!.body_sealed!)).toContain('取件码 123456');
    expect(vault2.decrypt(sms[0]!.address_sealed)).toBe('13900007773');
    // Through the new key configuration every view still reads; a node left on the old list cannot.
    for (const n of [...flow.caseNumbers, legacy.number]) await cases2.get(n);
    await expect(s.cases.get(legacy.number)).rejects.toMatchObject({ code: 'pii.unknown_key' });
    expect(await vault2.rotate(50)).toEqual({ cases: 0, notifications: 0, outbox: 0 });
    const [legacyEvent] = (await s.outbox.eventsOf('case', legacy.id)).filter(
      (e) => e.topic === 'case.decided',
    );
    expect(JSON.stringify(legacyEvent!.payload)).not.toMatch(/13900007773|123456/);
    expect(vault2.decrypt(legacyEvent!.payload.pickupCodeSealed as string)).toBe('123456');

    // Several nodes: a row another transaction holds is skipped (SKIP LOCKED), not waited for.
    if (server.database.kind === 'postgres') {
      await db().execute(sql`update cases set pii_key_id = 'dev' where id = ${legacy.id}`);
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      const holder = db().transaction(async (tx) => {
        await tx.execute(sql`select id from cases where id = ${legacy.id} for update`);
        locked();
        await held;
      });
      await isLocked;
      expect(await cases2.resealPii(10)).toBe(0);
      release();
      await holder;
      expect(await cases2.resealPii(10)).toBe(1);
    }
  });
});

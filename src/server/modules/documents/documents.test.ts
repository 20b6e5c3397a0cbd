/**
 * 文书 end to end on a real database and file store: a case received in 凯里 for 威宁 runs through
 * receive → 补正 (three gaps, one notice) → resubmit → accept → review → decide; the documents are issued
 * by the jobs loop (outbox handler → queue → render outside the transition), numbered per issuer, kind
 * and year without gaps; their PDFs are parsed back (pdfjs-dist) for title, 文号, case number, item and
 * every gap; the CJK font is an embedded subset; the SM3 digest is the stored one; rendering again gives
 * the same bytes. A refused case carries its reason; concurrent first requests issue one document each.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { todayInShanghai } from '../../../domain/calendar.ts';
import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { sm3Hex } from '../storage/service.ts';

let server: RunningServer;
let weiningCivil = '';
let hallName = '';
let deptName = '';
const HALL = '522601-zwfw';
const YEAR = todayInShanghai().slice(0, 4);

beforeAll(async () => {
  server = await startTestServer();
  const d = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!;
  weiningCivil = d.id;
  deptName = d.name;
  hallName = (await server.services.halls.getHall(HALL)).name;
});
afterAll(async () => {
  await server?.close();
});

const intake = `staff:kaili-window-1;hall=${HALL}`;
const officer = () => `staff:weining-1;department=${weiningCivil}`;
const outsider = 'staff:guiyang-1;hall=520102-zwfw';

function idNumber(seq: string): string {
  const first17 = `52052619800101${seq}`;
  return first17 + computeIdentityCheckCharacter(first17);
}

async function call(method: 'GET' | 'POST', url: string, actor: string, body?: unknown) {
  const res = await server.app.inject({
    method,
    url,
    headers: {
      'x-tongban-actor': actor,
      ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
    },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return res;
}

async function file(seq: string): Promise<string> {
  const r = await call('POST', '/api/v1/cases', intake, {
    itemCode: '050004001000',
    applicant: { kind: 'natural_person', name: '王小芳', idNumber: idNumber(seq), phone: '13800000001' },
    channel: 'hall_window',
    intakeHallCode: HALL,
    processingMode: 'off_site_intake',
    decidingDivisionCode: '520526',
    delivery: { method: 'pickup', hallCode: HALL },
    formData: { familySize: 3 },
  });
  expect(r.statusCode).toBe(201);
  const number = r.json().case.number as string;
  expect((await command(number, intake, { type: 'forward' })).statusCode).toBe(200);
  return number;
}

async function command(number: string, actor: string, body: unknown) {
  const r = await call('POST', `/api/v1/cases/${number}/commands`, actor, body);
  if (r.statusCode !== 200) throw new Error(`${JSON.stringify(body)}: ${r.statusCode} ${r.body}`);
  return r;
}

interface Listed {
  id: string;
  kind: string;
  title: string;
  number: string;
  eventSeq: number;
  sm3: string;
  bytes: number;
  downloadUrl: string;
}

async function list(number: string, actor = officer()): Promise<Listed[]> {
  const r = await call('GET', `/api/v1/cases/${number}/documents`, actor);
  expect(r.statusCode).toBe(200);
  return r.json().items;
}

/** The text of every page, whitespace removed (lines wrap anywhere in Chinese). */
async function pdfText(bytes: Buffer): Promise<string> {
  const task = getDocument({ data: new Uint8Array(bytes), useSystemFonts: false });
  const pdf = await task.promise;
  let text = '';
  for (let i = 1; i <= pdf.numPages; i++) {
    const page = await pdf.getPage(i);
    const content = await page.getTextContent();
    text += content.items.map((it) => ('str' in it ? it.str : '')).join('');
  }
  await task.destroy();
  return text.replace(/\s+/g, '');
}

const gaps = [
  { material: '家庭经济状况核对授权书', reason: '缺少家庭成员签字，请全体成员签字后提交原件' },
  { material: '申请人居民户口簿', reason: '复印件不清晰，请提交清晰的首页及本人页复印件' },
  { material: '收入证明', reason: '缺少近六个月的收入证明，请由所在单位或村（居）委会出具' },
];

describe('a case from receipt to decision', () => {
  let number = '';
  let docs: Listed[] = [];

  it('issues its documents from the jobs loop, not in the transitions', async () => {
    number = await file('301');
    await command(number, officer(), { type: 'request_supplement', gaps });
    // a walk-in case has no applicant account: the supplement is handed in at the intake window
    await command(number, intake, { type: 'resubmit' });
    await command(number, officer(), { type: 'accept' });
    await command(number, officer(), { type: 'start_review', step: '入户调查' });
    await command(number, officer(), { type: 'decide', outcome: 'granted' });
    const c = await server.services.cases.get(number);
    const before = rowsOf<{ n: number }>(
      await server.database.db.execute(
        sql`select count(*)::int as n from case_documents where case_id = ${c.id}::uuid`,
      ),
    );
    expect(Number(before[0]!.n)).toBe(0); // the transitions rendered nothing
    const round = await server.jobs.runOnce();
    expect(round.documentsIssued).toBe(4);
    expect(await server.services.documents.pendingJobs()).toBe(0);
    docs = await list(number);
    expect(docs.map((d) => d.kind)).toEqual([
      'receipt',
      'supplement_notice',
      'acceptance_notice',
      'grant_decision',
    ]);
  });

  it('numbers them per issuing authority, kind and year', () => {
    const [receipt, supplement, acceptance, grant] = docs;
    expect(receipt!.number).toBe(`${hallName}收字〔${YEAR}〕第000001号`);
    expect(supplement!.number).toBe(`威宁县民政局补字〔${YEAR}〕第000001号`);
    expect(acceptance!.number).toBe(`威宁县民政局受字〔${YEAR}〕第000001号`);
    expect(grant!.number).toBe(`威宁县民政局许准字〔${YEAR}〕第000001号`);
    expect(deptName).toContain('彝族回族苗族自治县');
    for (const d of docs) {
      expect(d.sm3).toMatch(/^[0-9a-f]{64}$/);
      expect(d.bytes).toBeGreaterThan(5_000);
      expect(d.bytes).toBeLessThan(100_000);
      expect(d.downloadUrl).toBe(`/api/v1/cases/${number}/documents/${d.id}`);
    }
  });

  it('serves each PDF with its title, 文号, case number, item, seal area and every gap', async () => {
    for (const d of docs) {
      const r = await call('GET', d.downloadUrl, intake);
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('application/pdf');
      expect(decodeURIComponent(String(r.headers['content-disposition']))).toContain(
        `${d.title}-${d.number}.pdf`,
      );
      const bytes = r.rawPayload;
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(sm3Hex(bytes)).toBe(d.sm3);
      expect(r.headers['x-tongban-sm3']).toBe(d.sm3);
      // the CJK font is embedded as a subset (XXXXXX+ prefix), and only that font
      const fonts = bytes.toString('latin1').match(/\/BaseFont \/([A-Z]{6})\+([\w-]+)/g) ?? [];
      expect(fonts.length).toBeGreaterThan(0);
      expect(bytes.toString('latin1')).toContain('/FontFile2');
      const text = await pdfText(bytes);
      for (const s of [d.title, d.number, number, '最低生活保障', '050004001000', '王小芳', '印章'])
        expect(text).toContain(s.replace(/\s+/g, ''));
      expect(text).toMatch(/5205\*+\d{3}[\dX]/); // the ID number masked
      expect(text).not.toContain(idNumber('301'));
      expect(text).toContain(`/track/${number}`);
      if (d.kind === 'supplement_notice')
        for (const g of gaps) {
          expect(text).toContain(g.material);
          expect(text).toContain(g.reason);
        }
      if (d.kind === 'acceptance_notice') expect(text).toContain('第三十二条');
    }
  });

  it('renders again to the same bytes (deterministic, reproducible digest)', async () => {
    const d = docs[1]!;
    const content = await server.services.documents.contentOf(number, d.id);
    const again = await server.services.documents.renderContent(content);
    expect(sm3Hex(again)).toBe(d.sm3);
    const stored = await server.services.documents.download(number, d.id);
    expect(again.equals(stored.body)).toBe(true);
  });

  it('is 404 for those who may not read the case, and for a document of another case', async () => {
    const hidden = await call('GET', `/api/v1/cases/${number}/documents`, outsider);
    expect([hidden.statusCode, hidden.json().error.code]).toEqual([404, 'case.not_found']);
    const pdf = await call('GET', docs[0]!.downloadUrl, outsider);
    expect(pdf.statusCode).toBe(404);
    const other = await file('302');
    const wrong = await call('GET', `/api/v1/cases/${other}/documents/${docs[0]!.id}`, intake);
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([404, 'document.not_found']);
  });
});

describe('a refused case, asked for before the jobs ran', () => {
  it('issues the non-acceptance notice with its reason on request, once under concurrent requests', async () => {
    const number = await file('303');
    const reason = '申请人户籍不在本县，不属于本机关职权范围，请向户籍所在地民政部门申请';
    await command(number, officer(), { type: 'not_accept', reason });
    // two first requests at once (no jobs round yet): one document per (event, kind)
    const [a, b] = await Promise.all([
      server.services.documents.list(number),
      server.services.documents.list(number),
    ]);
    expect(a.map((d) => d.id)).toEqual(b.map((d) => d.id));
    expect(a.map((d) => d.kind)).toEqual(['receipt', 'non_acceptance_notice']);
    const c = await server.services.cases.get(number);
    const rows = rowsOf<{ n: number }>(
      await server.database.db.execute(
        sql`select count(*)::int as n from case_documents where case_id = ${c.id}::uuid`,
      ),
    );
    expect(Number(rows[0]!.n)).toBe(2);
    // the receipts of this file's cases follow each other without gaps (cases 301, 302, 303)
    await server.jobs.runOnce();
    const receipts = rowsOf<{ number: string }>(
      await server.database.db.execute(
        sql`select number from case_documents where kind = 'receipt' order by sequence`,
      ),
    ).map((r) => r.number);
    expect(receipts).toEqual([1, 2, 3].map((n) => `${hallName}收字〔${YEAR}〕第00000${n}号`));
    const refusal = a[1]!;
    expect(refusal.number).toBe(`威宁县民政局不受字〔${YEAR}〕第000001号`);
    const text = await pdfText((await server.services.documents.download(number, refusal.id)).body);
    expect(text).toContain('不予受理通知书');
    expect(text).toContain(reason);
    expect(text).toContain('行政复议');
  });
});

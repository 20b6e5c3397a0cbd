import { randomUUID } from 'node:crypto';
import { computeIdentityCheckCharacter } from '../domain/identity-number.ts';
import type { RunningServer } from '../server/main.ts';
import { sm3Hex } from '../server/modules/storage/service.ts';

/** A valid synthetic resident identity number (GB 11643). */
export function syntheticIdNumber(area: string, birth: string, seq: string): string {
  const first17 = `${area}${birth}${seq}`;
  return first17 + computeIdentityCheckCharacter(first17);
}

/**
 * GB 11643 resident identity numbers (18 characters, not part of a longer digit run), e.g. to scan logs
 * and database dumps. Case numbers (21 digits) do not match.
 */
export const ID_NUMBER_PATTERN =
  /(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9])/g;
/** Mainland mobile numbers (11 digits starting 1[3-9], not part of a longer digit run). */
export const PHONE_PATTERN = /(?<![0-9])1[3-9]\d{9}(?![0-9])/g;

/** What a representative flow used, to be searched for afterwards. */
export interface PiiFlowResult {
  /** Every personal value sent in clear (ID numbers, phones, email, address, recipient) and the pickup code. */
  secrets: string[];
  idNumbers: string[];
  phones: string[];
  pickupCode: string;
  /** Case numbers (not secret; a positive control for scanners). */
  caseNumbers: string[];
}

/**
 * A representative flow through the HTTP API with personal data everywhere it can go: submit at a hall
 * with ID number, phone, email and an agent with an ID number; forward, accept, decide with a pickup
 * code, send the notifications (SMS), hand over with the code; a second case delivered by mail (recipient,
 * phone, address); a full read for a stated purpose. Uses the real Guizhou reference data and catalog.
 */
export async function runPiiFlow(server: RunningServer, salt = '1'): Promise<PiiFlowResult> {
  const dept = await server.services.departments.findDepartment('520526', 'civil_affairs');
  const weining = `staff:weining-1;department=${dept!.id}`;
  const intake = 'staff:kaili-window-1;hall=522601-zwfw';
  const call = async (method: 'GET' | 'POST', url: string, actor: string | undefined, body?: unknown) => {
    const res = await server.app.inject({
      method,
      url,
      headers: {
        ...(actor ? { 'x-tongban-actor': actor } : {}),
        ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
        cookie: 'session=secret-cookie-must-not-be-logged',
      },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const idA = syntheticIdNumber('520526', '19800101', `12${salt}`);
  const idAgent = syntheticIdNumber('522601', '19750505', `33${salt}`);
  const idB = syntheticIdNumber('520103', '19920303', `44${salt}`);
  const phoneA = `1380013${salt.padStart(4, '0')}`;
  const phoneB = `1390027${salt.padStart(4, '0')}`;
  const phoneMail = `1370038${salt.padStart(4, '0')}`;
  const email = `wang.xf${salt}@example.cn`;
  const address = `贵州省贵阳市云岩区中华北路${salt}号附${salt}栋`;

  // 帮办代办: the applicant has an account and the agent (the window clerk) records her signed authorization
  const resident = await server.services.identity.registerResident({
    name: '王小芳',
    idNumber: idA,
    phone: phoneA,
  });
  const signedForm = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`委托书 ${salt}`)]);
  const authorization = await call('POST', '/api/v1/agent-authorizations', intake, {
    resident: { idNumber: idA },
    itemCodes: ['050004001000'],
    validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    evidence: { kind: 'signed_form', sm3: sm3Hex(signedForm), reference: `WT-${salt}` },
  });
  if (authorization.residentAccountId !== resident.id)
    throw new Error('the authorization names someone else');
  // in force once the scan whose digest was recorded is uploaded
  const upload = await server.app.inject({
    method: 'PUT',
    url: `/api/v1/agent-authorizations/${authorization.id}/signed-form`,
    headers: { 'x-tongban-actor': intake, 'content-type': 'image/jpeg' },
    payload: signedForm,
  });
  if (upload.statusCode !== 200) throw new Error(`signed-form upload: ${upload.statusCode} ${upload.body}`);
  const a = await call('POST', '/api/v1/cases', intake, {
    itemCode: '050004001000', // 最低生活保障申请
    applicant: { kind: 'natural_person', name: '王小芳', idNumber: idA, phone: phoneA, email },
    agent: { kind: 'hall_helper', name: '李帮办', idNumber: idAgent, authorizationRef: authorization.id },
    channel: 'hall_window',
    intakeHallCode: '522601-zwfw',
    processingMode: 'off_site_intake',
    decidingDivisionCode: '520526',
    delivery: { method: 'pickup', hallCode: '522601-zwfw' },
    formData: { familySize: 3 },
  });
  const number = a.case.number as string;
  const cmd = (actor: string, body: unknown) => call('POST', `/api/v1/cases/${number}/commands`, actor, body);
  await cmd(intake, { type: 'forward' });
  await cmd(weining, { type: 'accept' });
  await cmd(weining, { type: 'decide', outcome: 'granted' });
  await server.jobs.runOnce();
  // filed for her under her authorization: the messages go to her account's inbox (the server's record)
  const inbox = await server.services.notifications.inboxOf({ kind: 'applicant', id: resident.id });
  const pickupCode = /(?:取件码|pickup code)\D*(\d{6})/.exec(JSON.stringify(inbox.items))?.[1];
  if (!pickupCode) throw new Error('no pickup code in the applicant inbox');
  await call('POST', `/api/v1/cases/${number}/pickup`, 'staff:kaili-desk;hall=522601-zwfw', { pickupCode });
  await call('POST', `/api/v1/cases/${number}/applicant/reveal`, intake, { purpose: '核验原件' });

  const b = await call('POST', '/api/v1/cases', 'staff:nm-any;hall=520102-zwfw', {
    itemCode: '200001001000', // 居民身份证换领
    applicant: { kind: 'natural_person', name: '陈静', idNumber: idB, phone: phoneB },
    channel: 'hall_window',
    intakeHallCode: '520102-zwfw',
    processingMode: 'any_hall',
    decidingDivisionCode: '520103',
    delivery: { method: 'mail', recipient: '陈静怡', phone: phoneMail, address },
  });
  // staff of the intake hall look the applicant up (the look-up requires a principal who may read the case)
  const found = await call('POST', '/api/v1/applicant-cases', 'staff:nm-any;hall=520102-zwfw', {
    identifier: idB,
  });
  if (found.items.length !== 1) throw new Error('the intake hall does not find its applicant’s case');
  await server.jobs.runOnce();
  return {
    secrets: [idA, idAgent, idB, phoneA, phoneB, phoneMail, email, address, pickupCode],
    idNumbers: [idA, idAgent, idB],
    phones: [phoneA, phoneB, phoneMail],
    pickupCode,
    caseNumbers: [number, b.case.number as string],
  };
}

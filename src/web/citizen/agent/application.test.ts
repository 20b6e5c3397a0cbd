/**
 * The bodies an agent's phone queues (src/web/citizen/agent/application.ts), checked against the server's
 * own schemas: the authorization (evidence with the SM3 and a reference, the end of the chosen day in
 * China Standard Time) and the case (channel village_agent at the agent's hall, the agent with the pending
 * authorization placeholder, the form validated by the item's form definition — every problem at once).
 */
import { describe, expect, test } from 'vitest';
import { SubmitCaseSchema } from '../../../domain/case-application.ts';
import type { FormField } from '../../../domain/form.ts';
import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import {
  type AgentApplicationInput,
  agentModes,
  authorizationBody,
  caseBody,
  dateInCst,
  defaultMode,
  endOfDayCst,
  pendingAuthorizationRef,
  validUntilProblem,
} from './application.ts';
import { agentGrant } from './session.ts';

const id17 = '52052619480203042';
const ID = id17 + computeIdentityCheckCharacter(id17);
const BAD_ID = id17 + (computeIdentityCheckCharacter(id17) === '1' ? '2' : '1');
const SM3 = 'a'.repeat(64);
const REF = '1a2b3c4d-0000-4000-8000-000000000001';
// 2026-03-01 20:00 in Beijing = 12:00 UTC
const NOW = Date.parse('2026-03-01T12:00:00Z');

const FIELDS: FormField[] = [
  { key: 'familySize', label: '共同生活家庭成员人数', type: 'integer', required: false, min: 1, max: 20 },
  { key: 'hasDisabledMember', label: '是否有重度残疾或重病成员', type: 'boolean', required: false },
  {
    key: 'disabilityNote',
    label: '残疾或重病情况说明',
    type: 'textarea',
    required: true,
    visibleWhen: { key: 'hasDisabledMember', equals: true },
  },
];

const input = (over: Partial<AgentApplicationInput> = {}): AgentApplicationInput => ({
  itemCode: '050004001000',
  resident: { name: ' 李阿婆 ', idNumber: ID.toLowerCase(), phone: '13900000042' },
  agent: { name: '凯里代办员', role: 'village_agent', hallCode: '522601-zwfw' },
  consentClientRef: REF,
  decidingDivisionCode: '520526',
  processingMode: 'off_site_intake',
  delivery: { method: 'pickup', hallCode: '522601-zwfw' },
  formFields: FIELDS,
  formData: { familySize: '2', hasDisabledMember: true, disabilityNote: ' 卧床 ' },
  ...over,
});

describe('dates of a consent', () => {
  test('calendar days in China Standard Time; the end of the chosen day with +08:00', () => {
    expect(dateInCst(0, Date.parse('2026-03-01T17:00:00Z'))).toBe('2026-03-02'); // 01:00 next day in Beijing
    expect(dateInCst(90, NOW)).toBe('2026-05-30');
    expect(endOfDayCst('2026-05-30')).toBe('2026-05-30T23:59:59+08:00');
  });

  test('from tomorrow to one year ahead', () => {
    expect(validUntilProblem('2026-03-02', NOW)).toBeNull();
    expect(validUntilProblem('2027-03-01', NOW)).toBeNull();
    expect(validUntilProblem('2026-03-01', NOW)).toBe('range');
    expect(validUntilProblem('2027-03-02', NOW)).toBe('range');
    expect(validUntilProblem('2026-3-9', NOW)).toBe('format');
  });
});

describe('the authorization body', () => {
  test('resident by ID number, the items, valid to the end of the day, the evidence with SM3 and reference', () => {
    for (const kind of ['on_screen_signature', 'signed_form'] as const)
      expect(
        authorizationBody({
          idNumber: ` ${ID.toLowerCase()}`,
          itemCodes: ['050004001000'],
          validUntil: '2026-05-30',
          kind,
          sm3: SM3,
          clientRef: REF,
        }),
      ).toEqual({
        resident: { idNumber: ID },
        itemCodes: ['050004001000'],
        validUntil: '2026-05-30T23:59:59+08:00',
        evidence: { kind, sm3: SM3, reference: '帮办-1a2b3c4d' },
      });
  });
});

describe('the case body', () => {
  test('an agent’s application as the server’s schema accepts it', () => {
    const r = caseBody(input());
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(SubmitCaseSchema.safeParse(r.body).success).toBe(true);
    expect(r.body).toMatchObject({
      channel: 'village_agent',
      intakeHallCode: '522601-zwfw',
      applicant: { kind: 'natural_person', name: '李阿婆', idNumber: ID, phone: '13900000042' },
      agent: { kind: 'village_agent', name: '凯里代办员', authorizationRef: pendingAuthorizationRef(REF) },
      formData: { familySize: 2, hasDisabledMember: true, disabilityNote: '卧床' },
    });
  });

  test('a hall helper files as hall_helper; no phone, no phone key', () => {
    const r = caseBody(
      input({
        agent: { name: '帮办员', role: 'helper', hallCode: '522601-zwfw' },
        resident: { name: '李阿婆', idNumber: ID, phone: null },
      }),
    );
    expect(r.ok && r.body.agent?.kind).toBe('hall_helper');
    expect(r.ok && 'phone' in r.body.applicant).toBe(false);
  });

  test('every problem at once, named as the server names them; nothing to queue', () => {
    const r = caseBody(
      input({
        resident: { name: '', idNumber: BAD_ID, phone: '123' },
        decidingDivisionCode: '5205',
        processingMode: 'teleport',
        formData: { familySize: '25', hasDisabledMember: true },
      }),
    );
    expect(r.ok).toBe(false);
    const fields = r.ok ? [] : r.issues.map((i) => i.field).sort();
    expect(fields).toEqual(
      [
        'applicant.idNumber',
        'applicant.name',
        'applicant.phone',
        'decidingDivisionCode',
        'formData.disabilityNote',
        'formData.familySize',
        'processingMode',
      ].sort(),
    );
  });

  test('a hidden field must stay empty (the form drops what its condition hides)', () => {
    const r = caseBody(input({ formData: { hasDisabledMember: false, disabilityNote: 'x' } }));
    expect(r.ok ? [] : r.issues.map((i) => i.field)).toEqual(['formData.disabilityNote']);
  });
});

describe('modes', () => {
  test('agents never file 全程网办; 异地代收代办 from a hall outside the deciding county', () => {
    expect(agentModes(['online', 'any_hall'])).toEqual(['any_hall']);
    expect(defaultMode(['online', 'off_site_intake', 'any_hall'], '522601-zwfw', '520526')).toBe(
      'off_site_intake',
    );
    expect(defaultMode(['off_site_intake', 'any_hall'], '520526-zwfw', '520526')).toBe('any_hall');
    expect(defaultMode(['online'], '522601-zwfw', '520526')).toBeNull();
  });
});

describe('the agent role at sign-in', () => {
  const grant = (over: Record<string, unknown> = {}) => ({
    role: 'village_agent',
    scope: { kind: 'hall', value: '522601-zwfw' },
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2027-01-01T00:00:00Z',
    revokedAt: null,
    ...over,
  });
  test('a village_agent or helper grant in force at a hall; otherwise none', () => {
    expect(agentGrant([grant()], null, NOW)).toEqual({ role: 'village_agent', hallCode: '522601-zwfw' });
    expect(agentGrant([grant({ role: 'helper' })], '520102-zwfw', NOW)).toEqual({
      role: 'helper',
      hallCode: '520102-zwfw',
    });
    expect(agentGrant([grant({ role: 'intake_clerk' })], '522601-zwfw', NOW)).toBeNull();
    expect(agentGrant([grant({ revokedAt: '2026-02-01T00:00:00Z' })], null, NOW)).toBeNull();
    expect(agentGrant([grant({ validUntil: '2026-02-01T00:00:00Z' })], null, NOW)).toBeNull();
    // a division grant names no hall: the account's own hall is needed
    expect(agentGrant([grant({ scope: { kind: 'division', value: '5226' } })], null, NOW)).toBeNull();
  });
});

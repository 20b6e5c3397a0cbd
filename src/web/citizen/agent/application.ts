/**
 * 帮办代办 on the phone, the pure part: the bodies an agent's application sends — the authorization
 * (`POST /api/v1/agent-authorizations`) and the case (`POST /api/v1/cases`) — built and checked on the
 * device with the same schemas the server uses (src/domain/case-application.ts, src/domain/form.ts), so
 * that an application queued offline is refused at once for what the device can see, not hours later.
 * No I/O here.
 */
import { type SubmitCaseInput, SubmitCaseSchema } from '../../../domain/case-application.ts';
import type { FieldIssue } from '../../../domain/errors.ts';
import { type FormField, validateFormData } from '../../../domain/form.ts';
import type { ConsentKind } from './store.ts';

const DAY_MS = 86_400_000;
/** Longest validity of an authorization the server accepts (one year, calendar days). */
export const MAX_VALIDITY_DAYS = 365;
/** Default validity of a new consent (calendar days). */
export const DEFAULT_VALIDITY_DAYS = 90;

/** The calendar date (YYYY-MM-DD, China Standard Time) `days` calendar days after `now` (epoch ms). */
export function dateInCst(days: number, now = Date.now()): string {
  return new Date(now + 8 * 3600_000 + days * DAY_MS).toISOString().slice(0, 10);
}

/** The end of a calendar day in China Standard Time as ISO 8601 with offset: `2026-03-01T23:59:59+08:00`. */
export function endOfDayCst(date: string): string {
  return `${date}T23:59:59+08:00`;
}

/**
 * Why a chosen last valid day is refused, or null: it must be a date from tomorrow to one year from today
 * (China Standard Time).
 */
export function validUntilProblem(date: string, now = Date.now()): 'format' | 'range' | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) return 'format';
  if (date < dateInCst(1, now) || date > dateInCst(MAX_VALIDITY_DAYS, now)) return 'range';
  return null;
}

/**
 * The body of `POST /api/v1/agent-authorizations` for a consent recorded on the device: the resident by
 * ID number, the items, valid until the end of the chosen day, and the evidence — `signed_form` (photo of
 * the signed 委托书) or `on_screen_signature` (the consent text and the resident's signature rendered to
 * one PNG), each with the SM3 digest (64 hex) of the file that is uploaded after it, and a reference the
 * hall can quote (`帮办-` and the first 8 characters of the device key).
 */
export function authorizationBody(input: {
  idNumber: string;
  itemCodes: readonly string[];
  validUntil: string;
  kind: ConsentKind;
  sm3: string;
  clientRef: string;
}): Record<string, unknown> {
  return {
    resident: { idNumber: input.idNumber.trim().toUpperCase() },
    itemCodes: [...input.itemCodes],
    validUntil: endOfDayCst(input.validUntil),
    evidence: { kind: input.kind, sm3: input.sm3, reference: consentReference(input.clientRef) },
  };
}

/** 委托编号 shown on the consent and sent as `evidence.reference`: `帮办-1a2b3c4d`. */
export function consentReference(clientRef: string): string {
  return `帮办-${clientRef.replace(/-/g, '').slice(0, 8)}`;
}

/**
 * Placeholder of `agent.authorizationRef` in a queued case body: the outbox records the authorization first
 * and puts the id the server gave it here before filing (src/web/citizen/offline/outbox.ts).
 */
export const pendingAuthorizationRef = (clientRef: string) => `pending:${clientRef}`;

/** Processing modes an agent can file: everything but 全程网办 (the resident's own online channel). */
export function agentModes(modes: readonly string[]): string[] {
  return modes.filter((m) => m !== 'online');
}

/**
 * The mode proposed for an item: 异地代收代办 when the agent's hall lies outside the deciding county and
 * the item offers it; within the county the first other mode the agent can file (异地代收代办 only when it
 * is all there is); null when the item offers none (online only).
 */
export function defaultMode(
  modes: readonly string[],
  hallCode: string,
  decidingDivisionCode: string,
): string | null {
  const usable = agentModes(modes);
  const hallCounty = hallCode.split('-')[0] ?? '';
  const elsewhere = hallCounty !== decidingDivisionCode.slice(0, 6);
  if (elsewhere && usable.includes('off_site_intake')) return 'off_site_intake';
  return (elsewhere ? usable[0] : usable.find((m) => m !== 'off_site_intake')) ?? usable[0] ?? null;
}

/** What the agent typed for one application. */
export interface AgentApplicationInput {
  itemCode: string;
  resident: { name: string; idNumber: string; phone: string | null };
  agent: { name: string; role: 'village_agent' | 'helper'; hallCode: string };
  consentClientRef: string;
  decidingDivisionCode: string;
  processingMode: string;
  delivery:
    | { method: 'pickup'; hallCode: string }
    | { method: 'mail'; recipient: string; phone: string; address: string }
    | { method: 'e_licence' };
  formFields: readonly FormField[];
  formData: Record<string, unknown>;
}

/**
 * The body of `POST /api/v1/cases` for an agent's application — channel `village_agent`, received at the
 * agent's hall, `agent` naming the agent (村级代办员 → `village_agent`, 帮办员 → `hall_helper`) with the
 * pending authorization placeholder — checked with the server's schemas. Returns the body, or every
 * problem at once (fields as the server names them: `applicant.idNumber`, `formData.familySize` …).
 */
export function caseBody(
  input: AgentApplicationInput,
): { ok: true; body: SubmitCaseInput } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const form = validateFormData(input.formFields, input.formData);
  if (!form.ok) issues.push(...form.issues);
  const phone = input.resident.phone?.trim();
  const body: SubmitCaseInput = {
    itemCode: input.itemCode,
    applicant: {
      kind: 'natural_person',
      name: input.resident.name.trim(),
      idNumber: input.resident.idNumber.trim().toUpperCase(),
      ...(phone ? { phone } : {}),
    },
    agent: {
      kind: input.agent.role === 'helper' ? 'hall_helper' : 'village_agent',
      name: input.agent.name,
      authorizationRef: pendingAuthorizationRef(input.consentClientRef),
    },
    channel: 'village_agent',
    intakeHallCode: input.agent.hallCode,
    processingMode: input.processingMode as SubmitCaseInput['processingMode'],
    decidingDivisionCode: input.decidingDivisionCode.trim(),
    formData: form.ok ? form.data : {},
    delivery: input.delivery,
  };
  const parsed = SubmitCaseSchema.safeParse(body);
  if (!parsed.success)
    for (const i of parsed.error.issues) {
      const field = i.path.join('.');
      if (!issues.some((x) => x.field === field)) issues.push({ field, message: i.message });
    }
  return issues.length ? { ok: false, issues } : { ok: true, body };
}

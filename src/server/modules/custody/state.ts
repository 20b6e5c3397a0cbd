import { z } from 'zod';
import { conflict } from '../../../domain/errors.ts';

/**
 * 材料流转 — pure rules of a material's custody (no I/O). A material's state is derived from its
 * append-only events by {@link applyCustodyEvent}; {@link checkCustodyEvent} says whether an event may
 * come next and, if not, throws a 409 whose message says what is allowed now.
 *
 * Life of a paper original in 异地代收代办: received (as original) at the intake hall → verified against
 * the original (核验原件) → scanned (file + SM3) → forwarded electronically to the competent department →
 * shipped (carrier, tracking number) → shipment_received by the competent department → returned to the
 * applicant. Copies and electronic materials are received and scanned/forwarded; only originals travel
 * and are returned.
 */

export const CUSTODY_EVENT_TYPES = [
  'received',
  'verified_against_original',
  'scanned',
  'forwarded_electronically',
  'shipped',
  'shipment_received',
  'returned',
] as const;
export type CustodyEventType = (typeof CUSTODY_EVENT_TYPES)[number];

/** How a material was handed in: 原件 original, 复印件 copy, 电子件 electronic. */
export const RECEIVED_FORMS = ['original', 'copy', 'electronic'] as const;
export type ReceivedForm = (typeof RECEIVED_FORMS)[number];

/** Where the paper original is. */
export const ORIGINAL_LOCATIONS = [
  'not_received',
  'intake_hall',
  'in_transit',
  'competent_department',
  'returned',
] as const;
export type OriginalLocation = (typeof ORIGINAL_LOCATIONS)[number];

const note = z.string().trim().min(1).max(500).optional().describe('free text, ≤ 500 characters');

/**
 * A custody event as a client records it (`POST …/materials/{seq}/custody`). `scanned` is not among
 * them: it is recorded by uploading the file (`PUT …/materials/{seq}/file`).
 */
export const CustodyEventInputSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('received'),
      as: z.enum(RECEIVED_FORMS).describe('original 原件 | copy 复印件 | electronic 电子件'),
      count: z.number().int().min(1).max(999).default(1).describe('number of copies or sheets received'),
      note,
    }),
    z.strictObject({
      type: z.literal('verified_against_original'),
      consistent: z
        .boolean()
        .default(true)
        .describe('核验原件: the copy/scan agrees with the original (false: record the discrepancy in note)'),
      note,
    }),
    z.strictObject({ type: z.literal('forwarded_electronically'), note }),
    z.strictObject({
      type: z.literal('shipped'),
      carrier: z.string().trim().min(1).max(64).describe('e.g. 中国邮政 EMS, 顺丰速运, 政务专递'),
      trackingNumber: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9-]{4,40}$/, '4–40 letters, digits or "-"')
        .describe('the carrier’s tracking number'),
      note,
    }),
    z.strictObject({
      type: z.literal('shipment_received'),
      trackingNumber: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9-]{4,40}$/, '4–40 letters, digits or "-"')
        .optional()
        .describe('when given, must match the shipment'),
      condition: z.enum(['intact', 'damaged']).default('intact'),
      note,
    }),
    z.strictObject({
      type: z.literal('returned'),
      to: z.enum(['applicant', 'agent']).default('applicant'),
      note,
    }),
  ])
  .meta({ id: 'CustodyEventInput' });
export type CustodyEventInput = z.infer<typeof CustodyEventInputSchema>;

/** Details of a `scanned` event (written by the upload). */
export interface ScannedData {
  /** The file's key within the case material (`<uuid>.<ext>`), as in the download URL. */
  fileKey: string;
  /** SM3 digest (GB/T 32905-2016) of the bytes, 64 hex digits. */
  sm3: string;
  /** Size in bytes. */
  bytes: number;
  contentType: string;
  filename: string | null;
}

/** An event as stored and shown. `data` depends on `type` (the input fields, or {@link ScannedData}). */
export interface CustodyEvent {
  seq: number;
  type: CustodyEventType;
  /** ISO 8601 instant. */
  at: string;
  actor: Record<string, unknown>;
  data: Record<string, unknown>;
}

export interface CustodyFile extends ScannedData {
  /** When it was uploaded (ISO 8601). */
  at: string;
  /** When this file was forwarded electronically, if it was. */
  forwardedAt: string | null;
}

/** What a material's events add up to. */
export interface MaterialCustodyState {
  /** Counts received per form (sums of `count`). */
  received: Record<ReceivedForm, number>;
  /** Where the paper original is now. */
  original: OriginalLocation;
  /** The latest 核验原件 of the original currently held, if any. */
  verification: { consistent: boolean; at: string } | null;
  /** The latest shipment of the original (kept after return, for the record). */
  shipment: {
    carrier: string;
    trackingNumber: string;
    shippedAt: string;
    receivedAt: string | null;
    condition: 'intact' | 'damaged' | null;
  } | null;
  /** Every scan, oldest first (re-uploads keep the history); the last one is current. */
  files: CustodyFile[];
  /** The current file's key, or null before the first scan. */
  currentFileKey: string | null;
  /** When the original was last returned to the applicant. */
  returnedAt: string | null;
}

export function initialCustodyState(): MaterialCustodyState {
  return {
    received: { original: 0, copy: 0, electronic: 0 },
    original: 'not_received',
    verification: null,
    shipment: null,
    files: [],
    currentFileKey: null,
    returnedAt: null,
  };
}

const HELD: OriginalLocation[] = ['intake_hall', 'in_transit', 'competent_department'];

const WHERE: Record<OriginalLocation, string> = {
  not_received: 'the original has not been received',
  intake_hall: 'the original is at the intake hall',
  in_transit: 'the original is in transit to the competent department',
  competent_department: 'the original is at the competent department',
  returned: 'the original was returned to the applicant',
};

/** The event types that may come next (scanned included: it is recorded by the upload). */
export function allowedNext(s: MaterialCustodyState): CustodyEventType[] {
  const out: CustodyEventType[] = ['received'];
  if (s.original === 'intake_hall' && !s.verification) out.push('verified_against_original');
  if (s.received.original + s.received.copy + s.received.electronic > 0) out.push('scanned');
  const current = s.files.at(-1);
  if (current && !current.forwardedAt) out.push('forwarded_electronically');
  if (s.original === 'intake_hall') out.push('shipped');
  if (s.original === 'in_transit') out.push('shipment_received');
  if (s.original === 'intake_hall' || s.original === 'competent_department') out.push('returned');
  return out;
}

/**
 * Refuses an event that may not come next, with a 409 that says why and what is allowed now.
 * @param label e.g. `material 2 (居民身份证)` for messages.
 * @throws AppError(conflict) `custody.out_of_order` (with a specific reason) or
 *         `custody.tracking_mismatch` (a shipment received under another tracking number).
 */
export function checkCustodyEvent(
  s: MaterialCustodyState,
  event: CustodyEventInput | { type: 'scanned' },
  label: string,
): void {
  const refuse = (why: string, code = 'custody.out_of_order'): never => {
    const allowed = allowedNext(s);
    throw conflict(
      code,
      `Cannot record ${event.type} for ${label}: ${why}. Allowed now: ${allowed.join(', ')}.`,
      'type',
    );
  };
  switch (event.type) {
    case 'received':
      if (event.as === 'original' && HELD.includes(s.original)) {
        refuse(`${WHERE[s.original]} already (one original per material)`);
      }
      return;
    case 'verified_against_original':
      if (s.original !== 'intake_hall')
        refuse(`核验原件 needs the original at the intake hall, but ${WHERE[s.original]}`);
      if (s.verification) refuse(`it was already verified at ${s.verification.at}`);
      return;
    case 'scanned':
      if (s.received.original + s.received.copy + s.received.electronic === 0) {
        refuse('nothing has been received yet — record received first');
      }
      return;
    case 'forwarded_electronically': {
      const current = s.files.at(-1);
      if (!current) refuse('there is no scanned file to forward — upload the scan first');
      if (current?.forwardedAt) {
        refuse(
          `the current file was already forwarded at ${current.forwardedAt} — upload a new scan to forward again`,
        );
      }
      return;
    }
    case 'shipped':
      if (s.original !== 'intake_hall')
        refuse(`only an original held at the intake hall can be shipped, but ${WHERE[s.original]}`);
      return;
    case 'shipment_received':
      if (s.original !== 'in_transit') refuse(`no shipment is on its way: ${WHERE[s.original]}`);
      if (event.trackingNumber && s.shipment && event.trackingNumber !== s.shipment.trackingNumber) {
        refuse(
          `the tracking number ${event.trackingNumber} is not the shipment's (${s.shipment.carrier} ${s.shipment.trackingNumber})`,
          'custody.tracking_mismatch',
        );
      }
      return;
    case 'returned':
      if (s.original === 'returned') refuse(`it was already returned at ${s.returnedAt}`);
      if (s.original === 'not_received') {
        refuse(
          s.received.copy + s.received.electronic > 0
            ? 'only an original is returned, and this material was received as a copy or electronically'
            : 'the original has not been received',
        );
      }
      if (s.original === 'in_transit') refuse(`${WHERE[s.original]}; record shipment_received first`);
      return;
  }
}

/** The state after one more event (pure; assumes {@link checkCustodyEvent} allowed it). */
export function applyCustodyEvent(s: MaterialCustodyState, e: CustodyEvent): MaterialCustodyState {
  const d = e.data;
  const next: MaterialCustodyState = { ...s, received: { ...s.received }, files: [...s.files] };
  switch (e.type) {
    case 'received': {
      const form = d.as as ReceivedForm;
      next.received[form] += Number(d.count ?? 1);
      if (form === 'original') {
        next.original = 'intake_hall';
        next.verification = null;
        next.returnedAt = null;
      }
      break;
    }
    case 'verified_against_original':
      next.verification = { consistent: d.consistent !== false, at: e.at };
      break;
    case 'scanned': {
      const f = d as unknown as ScannedData;
      next.files.push({
        fileKey: f.fileKey,
        sm3: f.sm3,
        bytes: f.bytes,
        contentType: f.contentType,
        filename: f.filename ?? null,
        at: e.at,
        forwardedAt: null,
      });
      next.currentFileKey = f.fileKey;
      break;
    }
    case 'forwarded_electronically': {
      const i = next.files.length - 1;
      if (i >= 0) next.files[i] = { ...next.files[i]!, forwardedAt: e.at };
      break;
    }
    case 'shipped':
      next.original = 'in_transit';
      next.shipment = {
        carrier: String(d.carrier),
        trackingNumber: String(d.trackingNumber),
        shippedAt: e.at,
        receivedAt: null,
        condition: null,
      };
      break;
    case 'shipment_received':
      next.original = 'competent_department';
      if (next.shipment) {
        next.shipment = {
          ...next.shipment,
          receivedAt: e.at,
          condition: (d.condition as 'intact' | 'damaged' | undefined) ?? 'intact',
        };
      }
      break;
    case 'returned':
      next.original = 'returned';
      next.returnedAt = e.at;
      break;
  }
  return next;
}

/** Folds events (oldest first) into a state. */
export function custodyStateOf(events: CustodyEvent[]): MaterialCustodyState {
  return events.reduce(applyCustodyEvent, initialCustodyState());
}

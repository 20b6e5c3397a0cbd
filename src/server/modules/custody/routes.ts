import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import type { CasesService } from '../cases/service.ts';
import { requirePrincipal } from '../identity/policy.ts';
import { type Principal, principalToCaseActor } from '../identity/principal.ts';
import { fileTooLarge } from '../storage/service.ts';
import {
  APPLICANT_UPLOAD_STATUSES,
  APPLICANT_UPLOAD_TYPES,
  CUSTODY_EVENT_TYPES,
  CustodyEventInputSchema,
  type CustodyService,
  FILE_KEY_PATTERN,
  ORIGINAL_LOCATIONS,
  UPLOAD_CONTENT_TYPES,
} from './service.ts';

const headers = z.object({
  'idempotency-key': z.string().describe('client-generated key (e.g. a UUID), the same on every retry'),
  'x-tongban-actor': z
    .string()
    .optional()
    .describe('acting staff member — development stand-in until the identity issue'),
});

const params = z.object({
  ref: z.string().describe('21-digit case number or case id'),
  seq: z.coerce.number().int().min(1).max(999).describe('the material’s number in the case checklist'),
});

const EventSchema = z.object({
  seq: z.number().int(),
  type: z.enum(CUSTODY_EVENT_TYPES),
  at: z.string().describe('ISO 8601 instant'),
  actor: z.record(z.string(), z.unknown()),
  data: z
    .record(z.string(), z.unknown())
    .describe('the event’s fields; for scanned: fileKey, sm3, bytes, contentType, filename'),
});

const FileSchema = z.object({
  fileKey: z.string(),
  sm3: z.string().describe('SM3 digest (GB/T 32905-2016), 64 hex digits'),
  bytes: z.number().int(),
  contentType: z.string(),
  filename: z.string().nullable(),
  at: z.string(),
  forwardedAt: z.string().nullable(),
});

export const MaterialCustodySchema = z
  .object({
    seq: z.number().int(),
    name: z.string(),
    required: z.boolean(),
    received: z.object({ original: z.number(), copy: z.number(), electronic: z.number() }),
    original: z.enum(ORIGINAL_LOCATIONS).describe('where the paper original is now'),
    verification: z.object({ consistent: z.boolean(), at: z.string() }).nullable().describe('核验原件'),
    shipment: z
      .object({
        carrier: z.string(),
        trackingNumber: z.string(),
        shippedAt: z.string(),
        receivedAt: z.string().nullable(),
        condition: z.enum(['intact', 'damaged']).nullable(),
      })
      .nullable(),
    files: z.array(FileSchema).describe('every scan, oldest first; the last is current'),
    currentFileKey: z.string().nullable(),
    returnedAt: z.string().nullable(),
    allowedNext: z.array(z.enum(CUSTODY_EVENT_TYPES)),
    events: z.array(EventSchema),
  })
  .meta({ id: 'MaterialCustody' });

const MutationSchema = z.object({
  caseId: z.string(),
  caseNumber: z.string(),
  event: EventSchema,
  material: MaterialCustodySchema,
});

const withConflicts = { ...errorResponses, 403: errorResponses[400], 409: errorResponses[400] };

/**
 * The raw upload body, handed from the content-type parser to the handler without being read (so a
 * large scan streams to the file store). Private field: nothing walks into the request stream.
 */
class UploadBody {
  readonly #stream: Readable;
  constructor(stream: Readable) {
    this.#stream = stream;
  }
  get stream(): Readable {
    return this.#stream;
  }
}

/** 材料流转 API: record custody events, upload scans, read a case's custody and download scans. */
export function custodyRoutes(deps: {
  custody: CustodyService;
  cases: Pick<CasesService, 'requireAccess' | 'applicantSideActor'>;
}): FastifyPluginAsyncZod {
  /**
   * Policy (see cases/policy.ts): reading custody needs to see the case (else 404); recording custody
   * events and scans needs `case.custody` (收件员, 受理员) on it (else 403 `case.role_missing`).
   */
  const actorFor = async (
    req: { principal: Principal | null; params: { ref: string } },
    action: 'case.custody' | null,
  ) => {
    const p = requirePrincipal(req.principal);
    await deps.cases.requireAccess(p, req.params.ref, action);
    return principalToCaseActor(p);
  };
  return async (app) => {
    const maxBytes = deps.custody.maxUploadBytes;
    // Encapsulated in this plugin: scans as raw bodies, size-checked by Content-Length here and while
    // streaming by the file store (FILES_MAX_BYTES), with the same 413 `file.too_large`.
    app.addContentTypeParser(Object.keys(UPLOAD_CONTENT_TYPES), (req, payload, done) => {
      const length = Number(req.headers['content-length']);
      if (Number.isFinite(length) && length > maxBytes) {
        done(fileTooLarge(maxBytes, length), undefined);
        return;
      }
      done(null, new UploadBody(payload as Readable));
    });

    app.post(
      '/api/v1/cases/:ref/materials/:seq/custody',
      {
        schema: {
          tags: ['custody'],
          summary:
            '材料流转: record received (original/copy/electronic), verified_against_original (核验原件), forwarded_electronically, shipped, shipment_received or returned',
          description:
            'Append-only. An event that may not come next is a 409 whose message says what is allowed now; the intake hall’s staff record everything but shipment_received (the competent department).',
          params,
          headers,
          body: CustodyEventInputSchema,
          response: { 201: MutationSchema, ...withConflicts },
        },
      },
      async (req, reply) => {
        const result = await deps.custody.record(req.params.ref, req.params.seq, req.body, {
          actor: await actorFor(req, 'case.custody'),
          idempotencyKey: req.headers['idempotency-key'],
        });
        return reply.status(201).send(result);
      },
    );

    app.put(
      '/api/v1/cases/:ref/materials/:seq/file',
      {
        schema: {
          tags: ['custody'],
          summary:
            'Upload a scan of the material (raw body); records scanned with its SM3 digest — by the intake staff, or by the applicant (or their agent) from the citizen app',
          description: `Body: the file's bytes, Content-Type ${Object.keys(UPLOAD_CONTENT_TYPES).join(' | ')}, at most ${maxBytes} bytes (FILES_MAX_BYTES; 413 file.too_large past it). Re-uploads keep the history; a replay with the same Idempotency-Key stores nothing new. Staff with case.custody (收件员, 受理员) record a scan of what was received. The applicant — the resident (or legal person's operator) whose case it is — and an agent (帮办员 / 村级代办员) holding the resident's active authorization upload photos of materials themselves (${APPLICANT_UPLOAD_TYPES.join(', ')}) while the case is ${APPLICANT_UPLOAD_STATUSES.join(', ')} (else 409 custody.upload_closed): recorded as received (electronic) + scanned, attributed to them.`,
          params,
          headers: headers.extend({ 'content-type': z.string() }),
          querystring: z.object({
            filename: z.string().max(200).optional().describe('original file name, e.g. 身份证正面.jpg'),
          }),
          response: { 201: MutationSchema, ...withConflicts, 413: errorResponses[400] },
        },
      },
      async (req, reply) => {
        const p = requirePrincipal(req.principal);
        // the applicant's side (resident, or agent under the resident's authorization) uploads photos;
        // other staff need case.custody on the case (else 403 case.role_missing)
        const applicant = await deps.cases.applicantSideActor(p, req.params.ref);
        const actor = applicant ?? (await actorFor(req, 'case.custody'));
        const body = req.body instanceof UploadBody ? req.body.stream : Buffer.alloc(0);
        const meta = { contentType: req.headers['content-type'], filename: req.query.filename };
        const ctx = { actor, idempotencyKey: req.headers['idempotency-key'] };
        const result = applicant
          ? await deps.custody.uploadForApplicant(req.params.ref, req.params.seq, body, meta, ctx)
          : await deps.custody.upload(req.params.ref, req.params.seq, body, meta, ctx);
        return reply.status(201).send(result);
      },
    );

    app.get(
      '/api/v1/cases/:ref/materials',
      {
        schema: {
          tags: ['custody'],
          summary: 'Custody of every material of a case: where the original is, verification, scans, events',
          params: params.pick({ ref: true }),
          response: {
            200: z.object({
              caseId: z.string(),
              caseNumber: z.string(),
              materials: z.array(MaterialCustodySchema),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        await actorFor(req, null);
        return deps.custody.custodyOf(req.params.ref);
      },
    );

    app.get(
      '/api/v1/cases/:ref/materials/:seq/files/:key',
      {
        schema: {
          tags: ['custody'],
          summary: 'Download a scan, verified against its recorded SM3 digest (a mismatch is refused)',
          description:
            'Staff of the intake hall or the competent department. Response headers: Content-Type as uploaded, X-Tongban-SM3 (the verified digest). 500 custody.file_tampered when the stored bytes no longer match.',
          params: params.extend({
            key: z
              .string()
              .regex(FILE_KEY_PATTERN, 'a file key as returned by the upload: <uuid>.<pdf|jpg|png|bin>'),
          }),
          headers: z.object({ 'x-tongban-actor': z.string().optional() }),
          response: {
            200: z.string().meta({ format: 'binary' }).describe('the file’s bytes, as uploaded'),
            ...errorResponses,
            403: errorResponses[400],
          },
        },
      },
      async (req, reply) => {
        const file = await deps.custody.download(req.params.ref, req.params.seq, req.params.key, {
          actor: await actorFor(req, null),
        });
        const name = file.filename ?? req.params.key;
        const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
        return reply
          .header('content-type', file.contentType)
          .header('content-length', file.bytes)
          .header(
            'content-disposition',
            `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
          )
          .header('x-content-type-options', 'nosniff')
          .header('cache-control', 'private, no-store')
          .header('x-tongban-sm3', file.sm3)
          .send(file.body as unknown as string); // a Buffer is sent as is (Fastify does not serialize it)
      },
    );
  };
}

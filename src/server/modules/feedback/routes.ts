import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  FEEDBACK_CATEGORIES,
  FEEDBACK_OWNER_KINDS,
  FEEDBACK_PRIORITIES,
  FEEDBACK_STATUSES,
  FeedbackCloseInputSchema,
  FeedbackCommentInputSchema,
  FeedbackReportInputSchema,
  FeedbackTriageInputSchema,
} from '../../../domain/feedback.ts';
import { ErrorBodySchema, errorResponses } from '../../http/errors.ts';
import type { FeedbackService } from './service.ts';

const NamedSchema = z.object({
  id: z.string(),
  name: z.string().nullable().describe('display name; null when unknown'),
});

export const FeedbackViewSchema = z
  .object({
    id: z.string(),
    number: z.string().describe('FK + six digits, e.g. FK000042 (shown to the reporter)'),
    category: z.enum(FEEDBACK_CATEGORIES),
    summary: z.string(),
    details: z.string(),
    screen: z.string().describe('the workbench route the report came from, e.g. /inbox'),
    caseNumber: z.string().nullable(),
    reporter: NamedSchema,
    hallCode: z.string().nullable().describe('the reporter’s hall when they reported'),
    departmentId: z.string().nullable().describe('the reporter’s department when they reported'),
    divisionCode: z.string().describe('GB/T 2260 code of the reporter’s place'),
    status: z.enum(FEEDBACK_STATUSES),
    priority: z.enum(FEEDBACK_PRIORITIES).nullable(),
    owner: NamedSchema.extend({ kind: z.enum(FEEDBACK_OWNER_KINDS) }).nullable(),
    resolution: z.string().nullable(),
    commentCount: z.number().int(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    triagedAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    mayTriage: z.boolean().describe('whether you may triage and close it'),
  })
  .meta({ id: 'FeedbackReport' });

export const FeedbackDetailSchema = FeedbackViewSchema.extend({
  comments: z.array(
    z.object({ seq: z.number().int(), author: NamedSchema, text: z.string(), createdAt: z.string() }),
  ),
}).meta({ id: 'FeedbackReportDetail' });

const listQuery = z.object({
  status: z.enum(FEEDBACK_STATUSES).optional(),
  category: z.enum(FEEDBACK_CATEGORIES).optional(),
  before: z.coerce
    .number()
    .int()
    .min(1)
    .max(2147483647)
    .optional()
    .describe('running numbers below this one (next page); 1 – 2147483647'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const listResponse = z.object({
  items: z.array(FeedbackViewSchema),
  next: z.number().int().nullable().describe('pass as `before` for the next page; null: no more'),
});
const params = z.object({ id: z.string().max(64) });
const keyHeaders = z.object({
  'idempotency-key': z.string().describe('client-generated key (e.g. a UUID), the same on every retry'),
});
const errors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema, 409: ErrorBodySchema };

function page(items: Awaited<ReturnType<FeedbackService['mine']>>, limit: number) {
  const last = items.at(-1);
  return { items, next: items.length === limit && last ? Number(last.number.slice(2)) : null };
}

/**
 * The staff feedback channel (一线反馈) over HTTP. Who may do what: ./policy.ts; bodies: the domain
 * schemas in src/domain/feedback.ts (bad input: 400 naming the field).
 */
export function feedbackRoutes(deps: { feedback: FeedbackService }): FastifyPluginAsyncZod {
  const { feedback } = deps;
  return async (app) => {
    app.post(
      '/api/v1/feedback',
      {
        schema: {
          tags: ['feedback'],
          summary: 'Report a problem from a workbench screen (staff with feedback.report)',
          description:
            'category (system, process, permission, coordination), summary (1–200), details (≤ 4000), screen (the route, e.g. /inbox), optional caseNumber (21 digits, a case you can see: else 400 `feedback.case_unknown`, whether or not it exists). The place (hall, department, division) is yours. Idempotency-Key required: a replay answers the first report. Audited (`feedback.report`); outbox `feedback.reported`.',
          headers: keyHeaders,
          body: FeedbackReportInputSchema,
          response: { 201: FeedbackViewSchema, ...errors },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(await feedback.report(req.principal, req.body, req.headers['idempotency-key'])),
    );

    app.get(
      '/api/v1/feedback/mine',
      {
        schema: {
          tags: ['feedback'],
          summary: 'The reports you filed, newest first, with their status',
          querystring: listQuery,
          response: { 200: listResponse, ...errors },
        },
      },
      async (req) => page(await feedback.mine(req.principal, req.query), req.query.limit),
    );

    app.get(
      '/api/v1/feedback',
      {
        schema: {
          tags: ['feedback'],
          summary:
            'The triage queue: reports from the places of your feedback.triage grants (administrators)',
          description:
            'Reports whose hall, department or division lies in your scope, newest first; filter by status and category. 403 `feedback.triager_only` without feedback.triage.',
          querystring: listQuery,
          response: { 200: listResponse, ...errors },
        },
      },
      async (req) => page(await feedback.queue(req.principal, req.query), req.query.limit),
    );

    app.get(
      '/api/v1/feedback/:id',
      {
        schema: {
          tags: ['feedback'],
          summary: 'One report with its comments (reporter, owner, triagers in scope; others 404)',
          params,
          response: { 200: FeedbackDetailSchema, ...errors },
        },
      },
      async (req) => feedback.get(req.principal, req.params.id),
    );

    app.post(
      '/api/v1/feedback/:id/triage',
      {
        schema: {
          tags: ['feedback'],
          summary: 'Triage a report: owner (staff account or department), priority, triaged / in_progress',
          description:
            'Administrators with feedback.triage over the report’s place. The owner must lie within your own feedback.triage scope. A note becomes a comment. Idempotency-Key required: a replay answers the report as it is now. 400 `feedback.owner_unknown` (field owner.id: unknown or outside your scope); 403 `feedback.triage_forbidden` for the reporter or owner; 409 `feedback.closed`. Audited (`feedback.triage`, before/after); outbox `feedback.triaged`.',
          params,
          headers: keyHeaders,
          body: FeedbackTriageInputSchema,
          response: { 200: FeedbackDetailSchema, ...errors },
        },
      },
      async (req) => feedback.triage(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
    );

    app.post(
      '/api/v1/feedback/:id/comments',
      {
        schema: {
          tags: ['feedback'],
          summary: 'Comment on a report (reporter ↔ triager ↔ owner)',
          description:
            'text 1–2000 characters. Idempotency-Key required: a retried comment is recorded once. 409 `feedback.closed`. Audited (`feedback.comment`).',
          params,
          headers: keyHeaders,
          body: FeedbackCommentInputSchema,
          response: { 201: FeedbackDetailSchema, ...errors },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(
            await feedback.comment(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
          ),
    );

    app.post(
      '/api/v1/feedback/:id/close',
      {
        schema: {
          tags: ['feedback'],
          summary: 'Close a report with its resolution (administrators in scope)',
          description:
            'resolution 1–2000 characters, shown to the reporter. Idempotency-Key required: a replay answers the closed report. 409 `feedback.closed` when already closed. Audited (`feedback.close`); outbox `feedback.closed`.',
          params,
          headers: keyHeaders,
          body: FeedbackCloseInputSchema,
          response: { 200: FeedbackDetailSchema, ...errors },
        },
      },
      async (req) => feedback.close(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
    );
  };
}

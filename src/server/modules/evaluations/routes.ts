import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AppealDecisionSchema,
  AppealSchema,
  AppealViewSchema,
  CallBackSchema,
  FollowUpSchema,
  OutcomeSchema,
  RatingStatusSchema,
  RECTIFICATION_STATUS_LIST,
  RectificationViewSchema,
  SatisfactionSchema,
  SubmitEvaluationSchema,
} from '../../../domain/evaluation.ts';
import { CACHE, cacheable } from '../../http/caching.ts';
import { errorResponses } from '../../http/errors.ts';
import type { EvaluationsService } from './service.ts';

const keyHeaders = z.object({
  'idempotency-key': z.string().describe('client-generated key (e.g. a UUID), the same on every retry'),
});
const optionalKey = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe('client-generated key; a replay returns the first answer'),
});
const writeResponses = {
  ...errorResponses,
  401: errorResponses[400],
  403: errorResponses[400],
  409: errorResponses[400],
};
const idParams = z.object({ id: z.uuid() });

/**
 * 好差评 over HTTP: rating (signed-in applicant, rating link token, hall tablet), the rating page's status,
 * rectifications (整改: call-back, outcome, follow-up rating), appeals (申诉) and their review (复核), and the
 * public satisfaction figures. Access: ./policy.ts and the service (documented per route).
 */
export function evaluationsRoutes(deps: { evaluations: EvaluationsService }): FastifyPluginAsyncZod {
  const { evaluations } = deps;
  return async (app) => {
    app.post(
      '/api/v1/evaluations',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'Rate a case (好差评): level 1 非常满意 … 5 非常不满意; levels 4–5 open a rectification',
          description:
            'Three ways: the signed-in applicant on their own case (channel pc/mobile; another’s case is 404), the rating link’s `token` without signing in (sms/qr_code; 403 `evaluation.token_invalid`), or the hall tablet signed in as the window’s staff on a case received at their hall (hall_tablet; 403 `evaluation.other_hall`). One rating per case, whatever the channel (a second is 409 `evaluation.already_rated`); a case without a result is 409 `evaluation.not_ratable`.',
          headers: optionalKey,
          body: SubmitEvaluationSchema,
          response: {
            201: z.object({ id: z.string(), rectificationId: z.string().nullable() }),
            ...writeResponses,
          },
        },
      },
      async (req, reply) => {
        const key = req.headers['idempotency-key'];
        const result = await evaluations.submit(req.body, {
          principal: req.principal,
          ...(key ? { idempotencyKey: key } : {}),
        });
        return reply.status(201).send(result);
      },
    );

    app.get(
      '/api/v1/evaluations/rating-status/:number',
      {
        schema: {
          tags: ['evaluations'],
          summary:
            'What the rating page shows: the case (no personal data), whether you may rate, your rating',
          description:
            'With the rating link’s token `t`, signed in as the applicant, or as hall staff for the tablet. 404 for a case that is not yours.',
          params: z.object({ number: z.string().regex(/^\d{21}$/) }),
          querystring: z.object({ t: z.string().max(64).optional() }),
          response: { 200: RatingStatusSchema, ...writeResponses },
        },
      },
      async (req) =>
        evaluations.ratingStatus(req.params.number, {
          principal: req.principal,
          ...(req.query.t ? { token: req.query.t } : {}),
        }),
    );

    app.get(
      '/api/v1/rectifications',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'Rectifications (整改) of my department, hall or division, soonest due first',
          description:
            'Due dates in working days (`workingDaysLeft`, negative when overdue; `overdue` names the late step). `can` says whether you may record the next step or appeal the review.',
          querystring: z.object({
            status: z
              .string()
              .optional()
              .describe(`comma-separated: ${RECTIFICATION_STATUS_LIST.join(', ')}`),
          }),
          response: { 200: z.object({ items: z.array(RectificationViewSchema) }), ...writeResponses },
        },
      },
      async (req) => {
        const statuses = req.query.status
          ? req.query.status
              .split(',')
              .filter((s): s is (typeof RECTIFICATION_STATUS_LIST)[number] =>
                (RECTIFICATION_STATUS_LIST as readonly string[]).includes(s),
              )
          : undefined;
        return {
          items: await evaluations.rectifications(req.principal, statuses ? { status: statuses } : {}),
        };
      },
    );

    app.post(
      '/api/v1/rectifications/:id/call-back',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'Record the call-back (回访) of a bad review',
          params: idParams,
          headers: keyHeaders,
          body: CallBackSchema,
          response: { 200: RectificationViewSchema, ...writeResponses },
        },
      },
      async (req) =>
        evaluations.recordCallBack(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
    );

    app.post(
      '/api/v1/rectifications/:id/outcome',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'Record the outcome of the rectification (整改结果)',
          params: idParams,
          headers: keyHeaders,
          body: OutcomeSchema,
          response: { 200: RectificationViewSchema, ...writeResponses },
        },
      },
      async (req) =>
        evaluations.recordOutcome(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
    );

    app.post(
      '/api/v1/rectifications/:id/follow-up',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'The resident’s follow-up rating (追评), which closes the rectification',
          description: 'Signed in as the applicant, or with the rating link’s `token`.',
          params: idParams,
          headers: optionalKey,
          body: FollowUpSchema,
          response: {
            200: z.object({ id: z.string(), status: z.enum(RECTIFICATION_STATUS_LIST) }),
            ...writeResponses,
          },
        },
      },
      async (req) => {
        const key = req.headers['idempotency-key'];
        return evaluations.followUp(req.params.id, req.body, {
          principal: req.principal,
          ...(key ? { idempotencyKey: key } : {}),
        });
      },
    );

    app.post(
      '/api/v1/evaluations/:id/appeal',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'Appeal a review (申诉) as malicious or mistaken, once per review',
          params: idParams,
          headers: keyHeaders,
          body: AppealSchema,
          response: { 201: AppealViewSchema, ...writeResponses },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(
            await evaluations.appeal(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
          ),
    );

    app.get(
      '/api/v1/evaluation-appeals',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'The reviewer’s queue (复核): appeals about ratings in my scope',
          querystring: z.object({ status: z.enum(['pending', 'upheld', 'rejected', 'all']).optional() }),
          response: { 200: z.object({ items: z.array(AppealViewSchema) }), ...writeResponses },
        },
      },
      async (req) => ({
        items: await evaluations.appeals(req.principal, req.query.status ? { status: req.query.status } : {}),
      }),
    );

    app.post(
      '/api/v1/evaluation-appeals/:id/decision',
      {
        schema: {
          tags: ['evaluations'],
          summary: 'Decide an appeal (复核): uphold (the review is excluded) or reject (it stands)',
          description:
            'County, prefecture or province administrators over the case; never the appellant (403 `evaluation.own_appeal`).',
          params: idParams,
          headers: keyHeaders,
          body: AppealDecisionSchema,
          response: { 200: AppealViewSchema, ...writeResponses },
        },
      },
      async (req) =>
        evaluations.decideAppeal(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
    );

    app.get(
      '/api/v1/satisfaction/halls/:code',
      {
        ...cacheable(CACHE.short),
        schema: {
          tags: ['evaluations'],
          summary: 'Public satisfaction figures of a hall (excluded reviews not counted)',
          params: z.object({ code: z.string().max(64) }),
          response: { 200: SatisfactionSchema, ...errorResponses },
        },
      },
      async (req) => evaluations.satisfaction('hall', req.params.code),
    );

    app.get(
      '/api/v1/satisfaction/items/:code',
      {
        ...cacheable(CACHE.short),
        schema: {
          tags: ['evaluations'],
          summary: 'Public satisfaction figures of a service item (excluded reviews not counted)',
          params: z.object({ code: z.string().regex(/^\d{12}$/, 'code must be the 12-digit basic code') }),
          response: { 200: SatisfactionSchema, ...errorResponses },
        },
      },
      async (req) => evaluations.satisfaction('item', req.params.code),
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SubmitCaseSchema } from '../../../domain/case-application.ts';
import type { CaseActor } from '../../../domain/case-state.ts';
import { CASE_STATUSES, CaseCommandSchema } from '../../../domain/case-state.ts';
import { conflict } from '../../../domain/errors.ts';
import { anyGrantAllows } from '../../../domain/roles.ts';
import { mutationContext } from '../../http/actor.ts';
import { errorResponses } from '../../http/errors.ts';
import { forbidden, requirePrincipal } from '../identity/policy.ts';
import { type Principal, principalToCaseActor } from '../identity/principal.ts';
import { actsAsAgent, commandAction, mayReadCase, requireDeskRole, requireScopeOver } from './policy.ts';
import {
  type CaseMutation,
  type CasesService,
  hallTarget,
  TRACK_LOOKUPS_PER_MINUTE,
  TRACK_WRONG_CHECKS,
} from './service.ts';

/** The signed-in caller (session, API token, or the development header) and their case actor. */
function caller(req: { principal: Principal | null }): { p: Principal; actor: CaseActor } {
  const p = requirePrincipal(req.principal);
  return { p, actor: principalToCaseActor(p) };
}

const headers = z.object({
  'idempotency-key': z.string().describe('client-generated key (e.g. a UUID), the same on every retry'),
  'x-tongban-actor': z
    .string()
    .optional()
    .describe('development stand-in for the caller (DEV_ACTOR_HEADER); else the session or API token'),
  'if-match': z
    .string()
    .regex(/^"?\d+"?$/, 'the case version you last saw, e.g. "3"')
    .optional()
    .describe('optimistic concurrency: the case version you last saw; a stale one is a 409'),
});
const readHeaders = z.object({ 'x-tongban-actor': z.string().optional() });

const ClockDateSchema = z
  .object({ date: z.string(), provisional: z.boolean(), unknownYears: z.array(z.number()) })
  .nullable();

export const CaseViewSchema = z
  .object({
    id: z.string(),
    number: z.string().describe('21 digits: intake county (6) + date (8) + sequence (7)'),
    status: z.enum(CASE_STATUSES),
    outcome: z.string().nullable(),
    itemCode: z.string(),
    itemName: z.string().describe('the item’s name when the case was filed'),
    implementationCode: z.string(),
    applicant: z.record(z.string(), z.unknown()).describe('identifiers masked'),
    agent: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe(
        '帮办代办: set when an agent filed the case — `kind` (village_agent 村级代办员, hall_helper 帮办员, authorized_person 受托人), `name` and `authorizationRef`; staff also see the agent’s masked ID number. The applicant side (residents, operators) never sees the agent’s ID number. null: filed by the applicant or at a window.',
      ),
    channel: z.string(),
    processingMode: z.string(),
    intakeHallCode: z.string().nullable(),
    competentDepartmentId: z.string().nullable(),
    decidingDivisionCode: z.string(),
    formData: z.record(z.string(), z.unknown()),
    limits: z.object({
      legal: z.object({ value: z.number(), unit: z.string() }).nullable(),
      promised: z.object({ value: z.number(), unit: z.string() }).nullable(),
    }),
    clocks: z
      .object({
        today: z.string(),
        clockStartedOn: z.string().nullable(),
        deemedAcceptancePending: z.boolean(),
        limit: z.object({ value: z.number(), unit: z.string() }).nullable(),
        pausedWorkingDays: z.number(),
        decidedWithinLimit: z.boolean().nullable(),
        supplementDue: ClockDateSchema,
        decisionDue: ClockDateSchema.describe('承诺办结日, working days'),
        legalDecisionDue: ClockDateSchema,
        certificateDue: ClockDateSchema,
        workingDaysLeft: z.number().nullable(),
        paused: z.boolean(),
        warning: z.enum(['none', 'yellow', 'red', 'overdue']),
        provisional: z.boolean().describe('a due date lies in a year whose holidays are not published'),
        unknownYears: z.array(z.number()),
      })
      .describe('legal clocks computed now (Asia/Shanghai working days; 行政许可法 arts. 32, 42, 44, 45)'),
    warning: z.string(),
    delivery: z.record(z.string(), z.unknown()).nullable(),
    visits: z.number().int().describe('applicant visits (一次办成)'),
    version: z.number().int(),
    parts: z.array(z.record(z.string(), z.unknown())),
    materials: z.array(z.record(z.string(), z.unknown())),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Case' });

const MutationSchema = z.object({
  case: CaseViewSchema,
  pickupCode: z
    .string()
    .optional()
    .describe(
      'the new 6-digit pickup code — only when the applicant themself reissues it (POST …/pickup-code), to show as a QR code at the pickup desk',
    ),
});

/** What a case mutation answers: the case after it, or an error (403 refused, 409 state or version). */
const mutationResponses = {
  200: MutationSchema,
  ...errorResponses,
  403: errorResponses[400],
  409: errorResponses[400],
};

const ref = z.object({ ref: z.string().describe('21-digit case number or case id') });

const HallNameSchema = z.object({ code: z.string(), name: z.string() });

/** Public tracking: a case without any personal data (see CasesService.track). */
export const TrackSchema = z
  .object({
    number: z.string().describe('21-digit case number'),
    itemCode: z.string(),
    itemName: z.string(),
    status: z.enum(CASE_STATUSES),
    statusLabel: z.string().describe('中文 label, e.g. 受理'),
    submittedOn: z.string().describe('YYYY-MM-DD (Asia/Shanghai)'),
    receivedOn: z.string().optional(),
    acceptedOn: z.string().optional(),
    decidedOn: z.string().optional(),
    deadline: z.string().optional().describe('承诺办结日 YYYY-MM-DD while the authority works on it'),
    deadlineProvisional: z
      .boolean()
      .optional()
      .describe('true: the deadline lies in a year whose holidays are not published yet'),
    workingDaysLeft: z.number().int().optional().describe('working days to the deadline; negative: overdue'),
    paused: z.boolean().optional().describe('the decision clock is paused (补正, 特别程序)'),
    intakeHall: HallNameSchema.optional().describe('收件大厅'),
    pickupHall: HallNameSchema.optional().describe('取件大厅 (delivery by pickup)'),
    readyForPickup: z.boolean().describe('decided, the result waits at the pickup hall'),
  })
  .meta({ id: 'CaseTracking' });

/** The case API (办件): submission, one command endpoint per transition, queries. */
export function casesRoutes(deps: { cases: CasesService }): FastifyPluginAsyncZod {
  /** A mutation's case as the caller may see it (the applicant side never sees the agent's ID number). */
  const shown = (p: Principal, m: CaseMutation): CaseMutation => ({
    ...m,
    case: deps.cases.viewFor(p, m.case),
  });
  return async (app) => {
    app.post(
      '/api/v1/cases',
      {
        schema: {
          tags: ['cases'],
          summary: 'File an application (申报); at a hall window it is received at once',
          headers,
          body: SubmitCaseSchema,
          response: { 201: MutationSchema, ...errorResponses, 409: errorResponses[400] },
        },
      },
      async (req, reply) => {
        const { p, actor } = caller(req);
        // staff file at a hall: case.submit over that hall (收件员, 帮办员, 村级代办员); an agent's own grant
        // is checked against every item filed by the engine (帮办代办, audited when refused)
        if (p.kind === 'staff')
          requireScopeOver(p, 'case.submit', hallTarget(req.body.intakeHallCode ?? ''), deps.cases.now());
        const result = await deps.cases.submit(req.body, {
          ...mutationContext(req.headers, actor),
          principal: p,
        });
        return reply.status(201).send(shown(p, result));
      },
    );

    app.post(
      '/api/v1/cases/:ref/commands',
      {
        schema: {
          tags: ['cases'],
          summary:
            'Apply one transition: receive, forward, request_supplement, resubmit, accept, not_accept, start_review, review_step, start/end_special_procedure, extend, decide, deliver (mail / e_licence), withdraw, reassign',
          description:
            'An illegal transition is a 409 whose message names the states that allow it. `rate` is refused here for every caller (409 `case.rate_through_evaluations`): a case is rated through POST /api/v1/evaluations (好差评), which records the rating, opens the rectification of a bad review and moves the case to rated.',
          params: ref,
          headers,
          body: CaseCommandSchema,
          response: mutationResponses,
        },
      },
      async (req) => {
        const { p, actor } = caller(req);
        // 好差评 is the only way to rate: it records the rating (and a bad review's rectification), then
        // moves the case to rated through CasesService.command directly, never over this route.
        if (req.body.type === 'rate')
          throw conflict(
            'case.rate_through_evaluations',
            'Rate through POST /api/v1/evaluations (好差评) with the case number, channel and level: it records the rating and moves the case to rated. The case command `rate` is not taken over HTTP.',
          );
        const target = await deps.cases.requireAccess(p, req.params.ref, commandAction(req.body.type, actor));
        // 帮办代办: an agent's resubmission, withdrawal or rating is taken under the resident's authorization
        const agent = actsAsAgent(p, req.body.type, target, deps.cases.now());
        if (!agent) requireDeskRole(p, req.body.type, target, deps.cases.now(), req.params.ref);
        return shown(
          p,
          await deps.cases.command(req.params.ref, req.body, {
            ...mutationContext(req.headers, agent ? { ...actor, kind: 'agent' } : actor),
            principal: p,
          }),
        );
      },
    );

    app.post(
      '/api/v1/cases/:ref/pickup',
      {
        schema: {
          tags: ['cases'],
          summary:
            'Hand the result over at the pickup desk (就近取件): checks the 6-digit code, records the visit',
          params: ref,
          headers,
          body: z.strictObject({ pickupCode: z.string() }),
          response: mutationResponses,
        },
      },
      async (req) => {
        const { p, actor } = caller(req);
        await deps.cases.requireAccess(p, req.params.ref, 'case.deliver');
        return deps.cases.handOver(req.params.ref, req.body.pickupCode, mutationContext(req.headers, actor));
      },
    );

    app.post(
      '/api/v1/cases/:ref/pickup-code',
      {
        schema: {
          tags: ['cases'],
          summary:
            'Reissue the pickup code (lost, or locked after 5 wrong codes): the new code goes to the applicant only',
          params: ref,
          headers,
          response: mutationResponses,
        },
      },
      async (req) => {
        const { p, actor } = caller(req);
        await deps.cases.requireAccess(p, req.params.ref, 'case.deliver');
        return shown(
          p,
          await deps.cases.reissuePickupCode(req.params.ref, mutationContext(req.headers, actor)),
        );
      },
    );

    app.post(
      '/api/v1/cases/:ref/parts/:seq/decision',
      {
        schema: {
          tags: ['cases'],
          summary: '多地联办: one competent department decides its part; the last part decides the case',
          params: ref.extend({ seq: z.coerce.number().int().min(1).max(20) }),
          headers,
          body: z.strictObject({
            outcome: z.enum(['granted', 'denied']),
            reason: z.string().max(2000).optional(),
          }),
          response: mutationResponses,
        },
      },
      async (req) => {
        const { p, actor } = caller(req);
        await deps.cases.requireAccess(p, req.params.ref, 'case.decide');
        return deps.cases.decidePart(
          req.params.ref,
          req.params.seq,
          { outcome: req.body.outcome, ...(req.body.reason ? { reason: req.body.reason } : {}) },
          mutationContext(req.headers, actor),
        );
      },
    );

    app.get(
      '/api/v1/cases/:ref',
      {
        schema: {
          tags: ['cases'],
          summary: 'A case by number or id, with its clocks computed now',
          params: ref,
          headers: readHeaders,
          response: { 200: CaseViewSchema, ...errorResponses },
        },
      },
      async (req) => {
        const { p } = caller(req);
        await deps.cases.requireAccess(p, req.params.ref, null);
        return deps.cases.viewFor(p, await deps.cases.get(req.params.ref));
      },
    );

    app.get(
      '/api/v1/track/:number',
      {
        config: { rateLimit: { max: TRACK_LOOKUPS_PER_MINUTE, timeWindow: '1 minute' } },
        schema: {
          tags: ['cases'],
          summary:
            'Public tracking (办件进度查询) for the QR code on every notice: status, dates, deadline and halls — no personal data',
          description: `Public. \`check\`: the last 4 digits of the applicant's mobile phone, or the last 6 characters of the applicant's ID number (or credit code). An unknown number and a wrong check both answer 404 \`track.not_found\` (numbers cannot be probed); a malformed number or check 400 naming the field. ${TRACK_LOOKUPS_PER_MINUTE} lookups per minute per client IP (429 past it); ${TRACK_WRONG_CHECKS.threshold} wrong checks on one number within an hour lock that number for an hour (429 \`track.locked\`, from any address). Number and check may be typed with full-width digits (NFKC). Every lookup is audited (\`case.track\`). The check is compared as a keyed SM3 blind index: no personal data is opened. Cache-Control: no-store. Signed-in applicants use GET /api/v1/cases/{ref}.`,
          params: z.object({ number: z.string().max(40).describe('21-digit case number') }),
          querystring: z.object({
            check: z
              .string()
              .max(40)
              .optional()
              .describe('last 4 digits of the applicant’s phone, or last 6 characters of the ID number'),
          }),
          response: { 200: TrackSchema, ...errorResponses },
        },
      },
      async (req, reply) => {
        void reply.header('cache-control', 'no-store');
        return deps.cases.track(req.params.number, req.query.check, { clientIp: req.ip });
      },
    );

    app.get(
      '/api/v1/cases/:ref/timeline',
      {
        schema: {
          tags: ['cases'],
          summary: 'The timeline (办件过程): every event with actor, time, reason',
          params: ref,
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  seq: z.number(),
                  type: z.string(),
                  from: z.string().nullable(),
                  to: z.string(),
                  at: z.string(),
                  actor: z.record(z.string(), z.unknown()),
                  reason: z.string().nullable(),
                  data: z.record(z.string(), z.unknown()),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        await deps.cases.requireAccess(caller(req).p, req.params.ref, null);
        return { items: await deps.cases.timeline(req.params.ref) };
      },
    );

    app.get(
      '/api/v1/me/cases',
      {
        schema: {
          tags: ['cases'],
          summary:
            'My applications (我的办件): the signed-in resident’s cases — filed by them or for them by an agent — with status, due dates and the next step',
          description:
            'Residents and legal persons’ operators (403 `case.residents_only` for staff). Newest first. `nextStep`: `resubmit` (the gaps to supply, listed once — 一次性告知), `pickup` (the hall; the pickup code was sent to the applicant only), `rate` (好差评 after delivery), or null while the authority acts.',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
          response: {
            200: z.object({
              items: z.array(
                CaseViewSchema.extend({
                  nextStep: z
                    .discriminatedUnion('action', [
                      z.object({
                        action: z.literal('resubmit'),
                        gaps: z.array(z.object({ material: z.string(), reason: z.string() })),
                        requestedOn: z.string(),
                      }),
                      z.object({ action: z.literal('pickup'), hallCode: z.string() }),
                      z.object({ action: z.literal('rate') }),
                    ])
                    .nullable(),
                }),
              ),
            }),
            ...errorResponses,
            403: errorResponses[400],
          },
        },
      },
      async (req) => ({ items: await deps.cases.myCases(caller(req).p, req.query.limit) }),
    );

    app.get(
      '/api/v1/departments/:id/inbox',
      {
        schema: {
          tags: ['cases'],
          summary:
            'A department’s open cases, sorted by decision due date; cursor pagination (no COUNT over the table)',
          params: z.object({ id: z.uuid() }),
          querystring: z.object({
            status: z.enum(CASE_STATUSES).optional(),
            warning: z.enum(['none', 'yellow', 'red', 'overdue']).optional(),
            limit: z.coerce.number().int().min(1).max(100).default(20),
            cursor: z.string().max(200).optional().describe('`next` from the previous page'),
          }),
          response: {
            200: z.object({ items: z.array(CaseViewSchema), next: z.string().nullable() }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { p } = caller(req);
        requireScopeOver(p, 'case.read', await deps.cases.departmentTarget(req.params.id), deps.cases.now());
        return deps.cases.inbox(req.params.id, {
          limit: req.query.limit,
          ...(req.query.status ? { statuses: [req.query.status] } : {}),
          ...(req.query.warning ? { warning: req.query.warning } : {}),
          ...(req.query.cursor ? { cursor: req.query.cursor } : {}),
        });
      },
    );

    app.get(
      '/api/v1/halls/:code/intake',
      {
        schema: {
          tags: ['cases'],
          summary: 'Cases received at a hall (收件列表), newest first',
          params: z.object({ code: z.string().max(64) }),
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
          response: { 200: z.object({ items: z.array(CaseViewSchema) }), ...errorResponses },
        },
      },
      async (req) => {
        requireScopeOver(caller(req).p, 'case.read', hallTarget(req.params.code), deps.cases.now());
        return { items: await deps.cases.intake(req.params.code, req.query.limit) };
      },
    );

    app.post(
      '/api/v1/applicant-cases',
      {
        schema: {
          tags: ['cases'],
          summary:
            'An applicant’s cases, by resident identity number or credit code (sent in the body, kept out of URLs and logs)',
          body: z.strictObject({
            identifier: z.string().min(18).max(18),
            limit: z.number().int().min(1).max(100).default(20),
          }),
          response: { 200: z.object({ items: z.array(CaseViewSchema) }), ...errorResponses },
        },
      },
      async (req) => {
        // staff only, and only the cases they may see (an ID number is no key to other people's cases)
        const { p } = caller(req);
        if (p.kind !== 'staff') requireScopeOver(p, 'case.read', {}, deps.cases.now());
        const items = [];
        for (const c of await deps.cases.applicantCases(req.body.identifier, req.body.limit))
          if (mayReadCase(p, await deps.cases.targetOf(c.id), deps.cases.now())) items.push(c);
        return { items };
      },
    );

    app.post(
      '/api/v1/cases/:ref/applicant/reveal',
      {
        schema: {
          tags: ['cases'],
          summary: 'The applicant’s full ID number, phone and email, for a stated purpose (audited)',
          description:
            'Staff of the competent department or the intake hall only (403 `pii.reveal_forbidden` otherwise). ' +
            'Every revealed field is recorded with the actor and the purpose (个人信息保护法 arts. 28, 51). ' +
            'A read with a side effect: no Idempotency-Key; every call is recorded again. Responses are ' +
            '`Cache-Control: no-store`.',
          params: z.object({ ref: z.string().describe('case number (21 digits) or id') }),
          headers: z.object({ 'x-tongban-actor': z.string().optional() }),
          body: z.strictObject({
            purpose: z.string().max(500).describe('why the full values are needed, 2–200 characters'),
          }),
          response: {
            200: z.object({
              caseNumber: z.string(),
              applicant: z.record(z.string(), z.unknown()),
              agent: z.record(z.string(), z.unknown()).nullable(),
              revealed: z.array(z.string()).describe('fields revealed and audited, e.g. applicant.idNumber'),
            }),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const { p, actor } = caller(req);
        await deps.cases.requireAccess(p, req.params.ref, 'case.reveal_pii');
        const result = await deps.cases.revealApplicant(req.params.ref, { actor, purpose: req.body.purpose });
        void reply.header('cache-control', 'no-store');
        return result;
      },
    );

    const DelegationSchema = z
      .object({
        id: z.string(),
        itemCode: z.string(),
        departmentId: z.string(),
        hallCode: z.string(),
        validFrom: z.date(),
        validUntil: z.date(),
        reason: z.string(),
        grantedBy: z.record(z.string(), z.unknown()),
        revokedAt: z.date().nullable(),
        revokedReason: z.string().nullable(),
        createdAt: z.date(),
      })
      .meta({ id: 'Delegation' });

    app.post(
      '/api/v1/delegations',
      {
        schema: {
          tags: ['cases'],
          summary:
            '无差别办理: a competent department lets a hall accept and decide an item (time-limited, revocable)',
          headers: z.object({ 'x-tongban-actor': z.string().optional() }),
          body: z.strictObject({
            itemCode: z.string().regex(/^\d{12}$/),
            departmentId: z.uuid(),
            hallCode: z.string().min(1).max(64),
            validFrom: z.iso.datetime({ offset: true }).optional(),
            validUntil: z.iso.datetime({ offset: true }),
            reason: z.string().min(1).max(500),
          }),
          response: { 201: DelegationSchema, ...errorResponses, 403: errorResponses[400] },
        },
      },
      async (req, reply) => {
        const { p, actor } = caller(req);
        const target = await deps.cases.departmentTarget(req.body.departmentId);
        if (!anyGrantAllows(p.grants, 'delegation.manage', target, deps.cases.now())) {
          throw forbidden(
            'delegation.not_grantor',
            'Only an administrator whose grants cover the granting department (delegation.manage) may grant its delegation.',
          );
        }
        const { validFrom, ...rest } = req.body;
        const row = await deps.cases.grantDelegation({
          ...rest,
          ...(validFrom ? { validFrom: new Date(validFrom) } : {}),
          validUntil: new Date(req.body.validUntil),
          grantedBy: actor,
        });
        return reply.status(201).send(row);
      },
    );

    app.post(
      '/api/v1/delegations/:id/revoke',
      {
        schema: {
          tags: ['cases'],
          summary: 'Revoke a delegation at once',
          params: z.object({ id: z.uuid() }),
          headers: z.object({ 'x-tongban-actor': z.string().optional() }),
          body: z.strictObject({ reason: z.string().min(1).max(500) }),
          response: { 200: DelegationSchema, ...errorResponses, 403: errorResponses[400] },
        },
      },
      async (req) => {
        const { p, actor } = caller(req);
        return deps.cases.revokeDelegation(req.params.id, req.body.reason, actor, async (departmentId) =>
          anyGrantAllows(
            p.grants,
            'delegation.manage',
            await deps.cases.departmentTarget(departmentId),
            deps.cases.now(),
          ),
        );
      },
    );

    app.get(
      '/api/v1/halls/:code/delegations',
      {
        schema: {
          tags: ['cases'],
          summary: 'Delegations granted to a hall (in force and past)',
          params: z.object({ code: z.string().max(64) }),
          response: { 200: z.object({ items: z.array(DelegationSchema) }), ...errorResponses },
        },
      },
      async (req) => {
        requireScopeOver(caller(req).p, 'case.read', hallTarget(req.params.code), deps.cases.now());
        return { items: await deps.cases.delegationsOfHall(req.params.code) };
      },
    );
  };
}

import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../domain/errors.ts';
import { errorResponses } from '../../http/errors.ts';
import { forbidden, requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';
import type { IdentityService } from '../identity/service.ts';
import type { LiveHub } from './live.ts';
import { MENTION_KINDS } from './schema.ts';
import { MAX_MENTIONS, MAX_TEXT_CHARS, type MessagingService, PostMessageSchema } from './service.ts';

export const ThreadViewSchema = z
  .object({
    id: z.string().describe('thread id; the general thread’s id is the case id'),
    caseId: z.string(),
    caseNumber: z.string(),
    kind: z.enum(['general', 'topic']),
    subject: z.string(),
    messageCount: z.number().int(),
    lastMessageAt: z.string().nullable(),
    lastReadSeq: z.number().int().describe('you have read up to this message seq (0: none)'),
    unread: z.number().int(),
    mentionsUnread: z.number().int().describe('unread messages mentioning you, your department or your hall'),
    consultedDepartments: z.array(
      z.object({
        departmentId: z.string(),
        addedByAccountId: z.string(),
        reason: z.string(),
        addedAt: z.string(),
      }),
    ),
    createdAt: z.string().nullable().describe('null: the general thread before its first message'),
  })
  .meta({ id: 'CaseThread' });

export const MessageViewSchema = z
  .object({
    id: z.string(),
    threadId: z.string(),
    caseId: z.string(),
    seq: z.number().int().describe('1, 2, … per thread'),
    author: z.object({
      accountId: z.string(),
      name: z.string(),
      departmentId: z.string().nullable(),
      hallCode: z.string().nullable(),
    }),
    text: z.string(),
    mentions: z.array(z.object({ kind: z.enum(MENTION_KINDS), id: z.string() })),
    createdAt: z.string(),
  })
  .meta({ id: 'CaseMessage' });

const keyHeaders = z.object({
  'idempotency-key': z.string().describe('client-generated key (e.g. a UUID), the same on every retry'),
  'x-tongban-actor': z.string().optional(),
});
const caseParams = z.object({ ref: z.string().describe('21-digit case number or case id') });
const threadParams = caseParams.extend({ threadId: z.string().max(64) });
const writeResponses = { ...errorResponses, 403: errorResponses[400], 409: errorResponses[400] };

function staffCaller(req: { principal: Principal | null }): Principal {
  return requirePrincipal(req.principal);
}

/**
 * In-case messaging (办件沟通) over HTTP, and the live WebSocket. Access: ./policy.ts (case readers, and
 * staff of a department consulted on a thread); everything else 404.
 */
export function messagingRoutes(deps: {
  messaging: MessagingService;
  live: LiveHub;
  identity: Pick<IdentityService, 'resolveSession' | 'resolveApiToken'>;
  /** AUTH_ALLOWED_ORIGINS: other origins allowed to open the live socket. */
  allowedOrigins: string[];
}): FastifyPluginAsyncZod {
  const { messaging } = deps;
  return async (app) => {
    app.get(
      '/api/v1/cases/:ref/threads',
      {
        schema: {
          tags: ['messaging'],
          summary: 'The case’s threads you may read (general first), with your unread counts',
          params: caseParams,
          response: {
            200: z.object({ caseId: z.string(), caseNumber: z.string(), items: z.array(ThreadViewSchema) }),
            ...errorResponses,
          },
        },
      },
      async (req) => messaging.threads(staffCaller(req), req.params.ref),
    );

    app.post(
      '/api/v1/cases/:ref/threads',
      {
        schema: {
          tags: ['messaging'],
          summary: 'Open a topic thread (专题) on a case',
          params: caseParams,
          headers: keyHeaders,
          body: z.strictObject({ subject: z.string().max(400).describe('1–100 characters') }),
          response: { 201: ThreadViewSchema, ...writeResponses },
        },
      },
      async (req, reply) => {
        const thread = await messaging.createThread(
          staffCaller(req),
          req.params.ref,
          req.body,
          req.headers['idempotency-key'],
        );
        return reply.status(201).send(thread);
      },
    );

    app.post(
      '/api/v1/cases/:ref/threads/:threadId/departments',
      {
        schema: {
          tags: ['messaging'],
          summary: 'Consult another department on a thread (会商): its staff may then read and post there',
          description:
            'Intake hall or competent department staff who handle the case (收件/转交/受理/审批 roles) only: 403 `case_thread.consult_forbidden` otherwise.',
          params: threadParams,
          headers: keyHeaders,
          body: z.strictObject({
            departmentId: z.uuid(),
            reason: z.string().max(2000).describe('why, 1–500 characters'),
          }),
          response: { 200: ThreadViewSchema, ...writeResponses },
        },
      },
      async (req) =>
        messaging.consult(
          staffCaller(req),
          req.params.ref,
          req.params.threadId,
          req.body,
          req.headers['idempotency-key'],
        ),
    );

    app.get(
      '/api/v1/cases/:ref/threads/:threadId/messages',
      {
        schema: {
          tags: ['messaging'],
          summary: 'Messages of a thread, ascending by seq; keyset pages (`before` older, `after` newer)',
          params: threadParams,
          querystring: z.object({
            before: z.coerce
              .number()
              .int()
              .min(1)
              .optional()
              .describe('older page: messages with seq < before'),
            after: z.coerce.number().int().min(0).optional().describe('catch up: messages with seq > after'),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: {
            200: z.object({
              thread: ThreadViewSchema,
              items: z.array(MessageViewSchema),
              olderBefore: z
                .number()
                .int()
                .nullable()
                .describe('`before` of the next older page; null at the start'),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) =>
        messaging.messages(staffCaller(req), req.params.ref, req.params.threadId, {
          limit: req.query.limit,
          ...(req.query.before !== undefined ? { before: req.query.before } : {}),
          ...(req.query.after !== undefined ? { after: req.query.after } : {}),
        }),
    );

    app.post(
      '/api/v1/cases/:ref/threads/:threadId/messages',
      {
        schema: {
          tags: ['messaging'],
          summary: 'Post a message (append-only: a correction is a new message); mentions notify',
          description: `Text trimmed, 1–${MAX_TEXT_CHARS} characters, full ID and mobile numbers masked; at most ${MAX_MENTIONS} mentions ({kind: staff|department|hall, id}), each of someone who may read the thread (400 \`case_message.mention_invalid\` naming \`mentions[i]\`).`,
          params: threadParams,
          headers: keyHeaders,
          body: PostMessageSchema,
          response: {
            201: z.object({ message: MessageViewSchema, thread: ThreadViewSchema }),
            ...writeResponses,
          },
        },
      },
      async (req, reply) => {
        const result = await messaging.post(
          staffCaller(req),
          req.params.ref,
          req.params.threadId,
          req.body,
          req.headers['idempotency-key'],
        );
        return reply.status(201).send(result);
      },
    );

    app.get(
      '/api/v1/cases/:ref/threads/:threadId/mentionable',
      {
        schema: {
          tags: ['messaging'],
          summary:
            'Whom you may @mention in a thread: staff who may read it, the case’s departments and halls',
          description:
            'Staff bound to the case’s halls, departments or the thread’s consulted departments who may read the thread (you left out), by name; departments of the case and consulted on the thread; halls of the case.',
          params: threadParams,
          response: {
            200: z.object({
              staff: z.array(
                z.object({
                  accountId: z.string(),
                  name: z.string(),
                  departmentId: z.string().nullable(),
                  hallCode: z.string().nullable(),
                }),
              ),
              departments: z.array(
                z.object({
                  id: z.string(),
                  consulted: z.boolean().describe('consulted on this thread (会商)'),
                }),
              ),
              halls: z.array(z.object({ code: z.string() })),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => messaging.mentionable(staffCaller(req), req.params.ref, req.params.threadId),
    );

    app.post(
      '/api/v1/cases/:ref/threads/:threadId/read',
      {
        schema: {
          tags: ['messaging'],
          summary: 'Mark the thread read up to a message seq (the cursor only moves forward)',
          params: threadParams,
          body: z.strictObject({ seq: z.number().int().min(0) }),
          response: { 200: ThreadViewSchema, ...errorResponses },
        },
      },
      async (req) => messaging.markRead(staffCaller(req), req.params.ref, req.params.threadId, req.body.seq),
    );

    app.get(
      '/api/v1/messaging/unread',
      {
        schema: {
          tags: ['messaging'],
          summary: 'Your unread messages across cases (the workbench badge): followed threads with unread',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
          response: {
            200: z.object({
              total: z.number().int(),
              mentions: z.number().int(),
              items: z.array(ThreadViewSchema),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => messaging.unreadSummary(staffCaller(req), req.query.limit),
    );

    app.route({
      method: 'GET',
      url: '/api/v1/messaging/live',
      schema: {
        tags: ['messaging'],
        summary: 'WebSocket: live messages, unread counts and case changes for the cases you subscribe to',
        description:
          'Open with the WebSocket handshake (a plain GET is 426). Authenticated by the session cookie (or a bearer API token); a browser connection must come from this site (Origin). Frames: see src/server/modules/messaging/live.ts — client `{type:"subscribe",case}`, `{type:"unsubscribe",caseId}`, `{type:"ping"}`; server `subscribed`, `message`, `thread`, `case`, `error`, `pong`.',
        response: { 426: errorResponses[400], ...errorResponses, 403: errorResponses[400] },
      },
      preHandler: async (req: FastifyRequest) => {
        const p = requirePrincipal(req.principal);
        if (p.kind !== 'staff')
          throw forbidden('live.staff_only', 'The live connection is for staff (in-case messaging).');
        if (p.via !== 'api_token') checkOrigin(req, deps.allowedOrigins);
      },
      handler: async () => {
        throw new AppError(
          'upgrade_required',
          'live.upgrade_required',
          'Open this endpoint as a WebSocket (Upgrade: websocket).',
        );
      },
      wsHandler: (socket, req) => {
        const p = req.principal!;
        const sessionId = req.authSessionId;
        const bearer = req.headers.authorization?.slice(7).trim();
        const reauth =
          p.via === 'session' && sessionId
            ? async () => (await deps.identity.resolveSession(sessionId))?.principal ?? null
            : p.via === 'api_token' && bearer
              ? () => deps.identity.resolveApiToken(bearer)
              : undefined;
        deps.live.attach(socket, p, reauth);
      },
    });
  };
}

/**
 * A browser opening the live socket must be on this site (Cross-Site WebSocket Hijacking: the handshake
 * carries the cookie whatever page opened it). The Origin header is required and must be this origin or
 * one of AUTH_ALLOWED_ORIGINS. @throws 403 `auth.cross_origin`.
 */
function checkOrigin(req: FastifyRequest, allowed: string[]): void {
  const origin = req.headers.origin;
  const own = `${req.protocol}://${req.host}`;
  if (typeof origin !== 'string' || (origin !== own && !allowed.includes(origin)))
    throw forbidden(
      'auth.cross_origin',
      `The live connection must be opened from this site (${own}); send its Origin.`,
    );
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import { type InboxPlaces, requireInboxAccess, requireOwnAccount } from './policy.ts';
import { type NotificationsService, PushSubscriptionSchema } from './service.ts';

const GUARDED =
  'Signed-in callers only (401), for their OWN inbox (403 `notification.recipient_forbidden`): applicant:<your account id>, staff:<your account id>, department:<id> when a grant of yours covers that department; applicant:case:<caseId> only in development through X-Tongban-Actor, for a caller who may read that case.';

const RecipientParam = z
  .string()
  .describe('`<kind>:<id>`, kind applicant | staff | department; e.g. applicant:acc-1, department:<id>');

export const InboxMessageSchema = z
  .object({
    id: z.string().uuid(),
    topic: z.string().describe('the event, e.g. case.accepted'),
    caseId: z.string().nullable(),
    caseNumber: z.string().nullable(),
    locale: z.string().describe('zh-CN or en'),
    subject: z.string(),
    body: z.string().describe('plain text'),
    createdAt: z.string().describe('ISO 8601'),
    readAt: z.string().nullable().describe('ISO 8601; null while unread'),
  })
  .meta({ id: 'InboxMessage' });

/**
 * `GET /api/v1/notifications/inbox`, `POST /api/v1/notifications/inbox/read`,
 * `GET /api/v1/notifications/push/vapid-public-key`, `POST /api/v1/notifications/push-subscriptions`.
 * Thin: validate, check the caller against ./policy.ts, call {@link NotificationsService}, present.
 */
export function notificationsRoutes(deps: {
  notifications: NotificationsService;
  /** Cases and departments for the inbox policy (the CasesService). */
  places: InboxPlaces;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/notifications/inbox',
      {
        schema: {
          tags: ['notifications'],
          summary: 'In-app inbox of a recipient (站内消息), newest first, with the unread count',
          description: GUARDED,
          querystring: z.object({
            recipient: RecipientParam,
            limit: z.coerce.number().int().min(1).max(100).default(20),
            before: z.string().optional().describe('the `next` cursor of the previous page'),
          }),
          response: {
            200: z.object({
              items: z.array(InboxMessageSchema),
              unread: z.number().int().describe('unread messages in the whole inbox'),
              next: z.string().nullable().describe('cursor for the next (older) page; null at the end'),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) =>
        deps.notifications.inboxOf(
          await requireInboxAccess(req.principal, req.query.recipient, deps.places),
          {
            limit: req.query.limit,
            before: req.query.before,
          },
        ),
    );

    app.post(
      '/api/v1/notifications/inbox/read',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Mark inbox messages as read',
          description: `${GUARDED} Idempotent: ids already read, or of another recipient, are ignored.`,
          body: z.object({ recipient: RecipientParam, ids: z.array(z.string()).min(1).max(200) }),
          response: {
            200: z.object({
              updated: z.number().int().describe('messages that changed from unread to read'),
              unread: z.number().int(),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) =>
        deps.notifications.markRead(
          await requireInboxAccess(req.principal, req.body.recipient, deps.places),
          req.body.ids,
        ),
    );

    app.get(
      '/api/v1/notifications/push/vapid-public-key',
      {
        schema: {
          tags: ['notifications'],
          summary: 'The VAPID public key for pushManager.subscribe({ applicationServerKey })',
          response: {
            200: z.object({ publicKey: z.string().describe('base64url, 65-byte P-256 point (RFC 8292)') }),
            ...errorResponses,
          },
        },
      },
      async () => ({ publicKey: deps.notifications.vapidPublicKey }),
    );

    app.post(
      '/api/v1/notifications/push-subscriptions',
      {
        schema: {
          tags: ['notifications'],
          summary: "Register a browser's Web Push subscription for an account",
          description:
            'Signed-in callers only, for their own account (403 `notification.recipient_forbidden`). The same endpoint again replaces its keys.',
          body: z.object({
            accountId: z.string().min(1).max(200),
            subscription: PushSubscriptionSchema,
          }),
          response: {
            201: z.object({
              id: z.string().uuid(),
              accountId: z.string(),
              endpoint: z.string(),
              createdAt: z.string().describe('ISO 8601'),
            }),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        requireOwnAccount(req.principal, req.body.accountId);
        const saved = await deps.notifications.subscribePush(req.body.accountId, req.body.subscription);
        return reply.status(201).send(saved);
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../domain/errors.ts';
import { anyGrantAllows, grantInForce, roleAllows } from '../../../domain/roles.ts';
import { errorResponses } from '../../http/errors.ts';
import { requirePrincipal } from '../identity/policy.ts';
import type { AuditService } from './service.ts';

export const AuditEntrySchema = z
  .object({
    id: z.string().describe('UUID'),
    at: z.string().describe('ISO 8601 instant, UTC, microseconds'),
    actor: z.object({
      kind: z.string(),
      id: z.string(),
      onBehalfOf: z.string().nullable().describe('帮办代办: the person the actor acted for'),
    }),
    action: z.string().describe('stable dotted name, e.g. case.accept, auth.login, pii.read_full'),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    purpose: z.string().nullable().describe('why (always present for pii.read_full)'),
    outcome: z.enum(['ok', 'denied']),
    requestId: z.string().nullable(),
    clientIp: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    chainSeq: z.number().int().nullable().describe('position in the SM3 hash chain; null while pending'),
    hash: z.string().nullable().describe('SM3(previous hash ‖ canonical entry), 64 hex digits'),
  })
  .meta({ id: 'AuditEntry' });

const instant = (what: string) =>
  z.iso
    .datetime({ offset: true })
    .optional()
    .describe(`${what}, ISO 8601 with offset, e.g. 2026-03-01T00:00:00+08:00`);

/**
 * `GET /api/v1/audit/entries` — the audit log (审计日志) for auditors: newest first, filtered, keyset
 * pagination. Each read is itself audited (`audit.read`, GB/T 39786-2021 §8.1.4.3: audit records are
 * protected and their use recorded).
 */
export function auditRoutes(deps: { audit: AuditService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/audit/entries',
      {
        schema: {
          tags: ['audit'],
          summary: 'Audit log entries (审计日志), newest first; cursor pagination (no COUNT over the table)',
          description:
            'Auditors only (审计员: a grant with audit.read over the whole province, 三员分立); 401 without a caller, 403 `audit.forbidden` otherwise.',
          headers: z.object({
            'x-tongban-actor': z
              .string()
              .optional()
              .describe('development stand-in for the caller (DEV_ACTOR_HEADER)'),
          }),
          querystring: z.object({
            actorId: z.string().max(128).optional(),
            action: z.string().max(64).optional().describe('e.g. case.accept'),
            targetType: z.string().max(64).optional().describe('e.g. case'),
            targetId: z.string().max(128).optional(),
            from: instant('inclusive lower bound on `at`'),
            to: instant('exclusive upper bound on `at`'),
            limit: z.coerce.number().int().min(1).max(200).default(50),
            cursor: z.string().max(200).optional().describe('`next` from the previous page'),
          }),
          response: {
            200: z.object({
              items: z.array(AuditEntrySchema),
              next: z.string().nullable().describe('cursor of the next (older) page; null at the end'),
            }),
            ...errorResponses,
            403: errorResponses[400],
          },
        },
      },
      async (req) => {
        const p = requirePrincipal(req.principal);
        // policy: the audit log is province-wide, so only an audit.read grant over the province (52) reads it
        if (!anyGrantAllows(p.grants, 'audit.read', { divisionCodes: ['52'] }, new Date())) {
          throw new AppError(
            'forbidden',
            'audit.forbidden',
            'Only auditors (审计员) may read the audit log.',
          );
        }
        const actor = { kind: p.kind, id: p.accountId };
        const q = req.query;
        const page = await deps.audit.list({
          actorId: q.actorId,
          action: q.action,
          targetType: q.targetType,
          targetId: q.targetId,
          from: q.from === undefined ? undefined : new Date(q.from),
          to: q.to === undefined ? undefined : new Date(q.to),
          cursor: q.cursor,
          limit: q.limit,
        });
        const filters = Object.fromEntries(
          Object.entries({ ...q, cursor: undefined }).filter(([, v]) => v !== undefined),
        );
        await deps.audit.record({
          actor: { kind: actor.kind, id: actor.id },
          action: 'audit.read',
          target: { type: 'audit_log', id: 'entries' },
          details: { filters, returned: page.items.length },
          requestId: req.id,
          clientIp: req.ip,
        });
        return page;
      },
    );

    app.get(
      '/api/v1/audit/admin-changes',
      {
        schema: {
          tags: ['audit'],
          summary:
            'The admin changes of my scope (staff, grants, halls, implementation lists, catalog imports), newest first',
          description: `Administrators (hall / county / prefecture / province admins; 403 \`audit.not_admin\` otherwise): entries of the actions ${ADMIN_ACTIONS.join(', ')} whose division lies in one of the caller's administrator division scopes, or whose hall is one of their hall scopes. Before/after are in \`details\`. Cursor pagination; each read is audited (\`audit.read\`).`,
          querystring: z.object({
            action: z.string().max(64).optional().describe('one action, e.g. hall.status_change'),
            from: instant('inclusive lower bound on `at`'),
            to: instant('exclusive upper bound on `at`'),
            limit: z.coerce.number().int().min(1).max(200).default(50),
            cursor: z.string().max(200).optional(),
          }),
          response: {
            200: z.object({ items: z.array(AuditEntrySchema), next: z.string().nullable() }),
            ...errorResponses,
            403: errorResponses[400],
          },
        },
      },
      async (req) => {
        const p = requirePrincipal(req.principal);
        const now = new Date();
        const admin = p.grants.filter(
          (g) =>
            grantInForce(g, now) &&
            (roleAllows(g.role, 'grant.manage') ||
              roleAllows(g.role, 'hall.manage') ||
              roleAllows(g.role, 'implementation.manage')),
        );
        if (admin.length === 0)
          throw new AppError(
            'forbidden',
            'audit.not_admin',
            'Only administrators read the admin changes of their scope.',
          );
        const places = {
          divisions: admin.flatMap((g) => (g.scope.kind === 'division' ? [g.scope.code] : [])),
          halls: admin.flatMap((g) => (g.scope.kind === 'hall' ? [g.scope.code] : [])),
        };
        const q = req.query;
        const page = await deps.audit.list({
          actionPrefixes:
            q.action === undefined
              ? ADMIN_ACTIONS
              : ADMIN_ACTIONS.some((a) => a === q.action || (a.endsWith('.') && q.action!.startsWith(a)))
                ? [q.action]
                : [],
          places,
          from: q.from === undefined ? undefined : new Date(q.from),
          to: q.to === undefined ? undefined : new Date(q.to),
          cursor: q.cursor,
          limit: q.limit,
        });
        await deps.audit.record({
          actor: { kind: p.kind, id: p.accountId },
          action: 'audit.read',
          target: { type: 'audit_log', id: 'admin-changes' },
          details: { places, returned: page.items.length },
          requestId: req.id,
          clientIp: req.ip,
        });
        return page;
      },
    );
  };
}

/** The admin changes an administrator may read for their scope (prefixes end with a dot). */
export const ADMIN_ACTIONS: readonly string[] = [
  'grant.',
  'account.create',
  'account.disable',
  'account.enable',
  'account.password_reset',
  'hall.',
  'implementation.',
  'admin.',
];

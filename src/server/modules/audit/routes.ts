import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../domain/errors.ts';
import { anyGrantAllows } from '../../../domain/roles.ts';
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
  };
}

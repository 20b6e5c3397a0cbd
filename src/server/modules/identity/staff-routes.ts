import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES, SCOPE_KINDS } from '../../../domain/roles.ts';
import { ErrorBodySchema, errorResponses } from '../../http/errors.ts';
import { offsetPage, offsetQuery } from '../../http/paging.ts';
import type { IdentityService } from './service.ts';

const errors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema, 409: ErrorBodySchema };
const RoleEnum = z.enum(ROLES);

export const StaffSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    username: z.string().nullable(),
    departmentId: z.string().nullable(),
    hallCode: z.string().nullable(),
    hallDivision: z.string().nullable().describe('GB/T 2260 division of the bound hall'),
    departmentDivision: z.string().nullable().describe('GB/T 2260 division of the bound department'),
    isAdmin: z.boolean().describe('administrator: TOTP mandatory'),
    totpEnrolled: z.boolean(),
    disabledAt: z.string().nullable().describe('ISO 8601; null while enabled'),
    createdAt: z.string(),
    roles: z.array(RoleEnum).describe('roles of the grants in force now'),
  })
  .meta({ id: 'Staff' });

const WithPasswordSchema = z
  .object({
    account: StaffSchema,
    initialPassword: z
      .string()
      .describe('shown ONCE: hand it to the staff member; only its argon2id hash is kept'),
  })
  .meta({ id: 'StaffWithInitialPassword' });

const ReasonBody = z.strictObject({
  reason: z.string().max(500).describe('why, 2–500 characters (audited)'),
});
const params = z.object({ id: z.string().uuid() });

/**
 * Staff administration (工作人员管理) for the staff workbench — administrators (`grant.manage`) within
 * their own scope (./staff.ts):
 * `GET /api/v1/staff`, `POST /api/v1/staff`, `GET /api/v1/staff/{id}`, `POST /api/v1/staff/{id}/disable`,
 * `POST /api/v1/staff/{id}/enable`, `POST /api/v1/staff/{id}/password-reset`, `GET /api/v1/grants/grantable`.
 */
export function staffRoutes(deps: { identity: IdentityService }): FastifyPluginAsyncZod {
  const staff = deps.identity.staff;
  return async (app) => {
    app.get(
      '/api/v1/staff',
      {
        schema: {
          tags: ['staff'],
          summary: 'Staff accounts of my scope (paged; search by name or username)',
          description:
            'Administrators only (403 `grant.not_admin`): accounts bound to a hall or department inside one of their administrator grants, ordered by name.',
          querystring: offsetQuery({ max: 100, fallback: 20, q: 'part of the name or username' }),
          response: {
            200: offsetPage(StaffSchema),
            ...errors,
          },
        },
      },
      async (req) => staff.list(req.principal, req.query),
    );

    app.post(
      '/api/v1/staff',
      {
        schema: {
          tags: ['staff'],
          summary: 'Create a staff account in my scope; its initial password is shown once',
          description:
            'Bound to a hall and/or department inside the caller’s administrator scope (403 `staff.out_of_scope` naming `hallCode` / `departmentId`; 400 for an unknown one). The server chooses a random initial password and returns it ONCE. `isAdmin`: must enrol TOTP at first sign-in (granting an administrator role sets it too). Then give roles with POST /api/v1/grants. Audited (`account.create`).',
          body: z.strictObject({
            name: z.string().max(100),
            username: z.string().max(64).describe('2–64 letters, digits, ".", "_" or "-"'),
            hallCode: z.string().max(64).optional(),
            departmentId: z.string().uuid().optional(),
            isAdmin: z.boolean().optional(),
            reason: z.string().max(500).optional(),
          }),
          response: { 201: WithPasswordSchema, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(await staff.create(req.principal, req.body)),
    );

    app.get(
      '/api/v1/staff/:id',
      {
        schema: {
          tags: ['staff'],
          summary: 'One staff account of my scope',
          params,
          response: { 200: StaffSchema, ...errors },
        },
      },
      async (req) => staff.get(req.principal, req.params.id),
    );

    const toggle = (disabled: boolean) => ({
      schema: {
        tags: ['staff'],
        summary: disabled
          ? 'Disable a staff account: its sessions end at once, its API tokens stop'
          : 'Enable a disabled staff account again (its grants in force apply again)',
        description:
          'Administrators over the account (404 `account.not_found` otherwise); never one’s own account (403 `staff.self`). Audited (`account.disable` / `account.enable`).',
        params,
        body: ReasonBody,
        response: {
          200: StaffSchema.extend({ sessionsEnded: z.number().int() }),
          ...errors,
        },
      },
    });
    app.post('/api/v1/staff/:id/disable', toggle(true), async (req) =>
      staff.setDisabled(req.principal, req.params.id, true, req.body.reason),
    );
    app.post('/api/v1/staff/:id/enable', toggle(false), async (req) =>
      staff.setDisabled(req.principal, req.params.id, false, req.body.reason),
    );

    app.post(
      '/api/v1/staff/:id/password-reset',
      {
        schema: {
          tags: ['staff'],
          summary: 'Give a staff account of my scope a new initial password (shown once); its sessions end',
          params,
          body: ReasonBody,
          response: { 200: WithPasswordSchema, ...errors },
        },
      },
      async (req) => staff.resetPassword(req.principal, req.params.id, req.body.reason),
    );

    app.get(
      '/api/v1/grants/grantable',
      {
        schema: {
          tags: ['grants'],
          summary: 'What I may grant: roles × scope roots × items × latest end, and the 无差别办理 items',
          description:
            'One entry per administrator grant of the caller in force: the roles it may give (its own and below), the scope root (a grant may name it or anything inside it: a sub-division, a hall, a department — list them with GET /api/v1/divisions?parent=, /halls?division=, /departments?division=), the items (null = all) and the latest validUntil. `anyHallItems`: items whose processing modes include 无差别办理 (any_hall), limited to the caller’s items — a 无差别办理 authority is a grant of acceptance_officer / approver over a hall for such items.',
          response: {
            200: z.object({
              grants: z.array(
                z.object({
                  grantId: z.string().nullable(),
                  role: RoleEnum,
                  scope: z.object({
                    kind: z.enum(SCOPE_KINDS),
                    value: z.string(),
                    divisionCode: z.string(),
                  }),
                  itemCodes: z.array(z.string()).nullable(),
                  validUntil: z.string(),
                  roles: z.array(z.object({ role: RoleEnum, name: z.string() })),
                }),
              ),
              anyHallItems: z.array(z.object({ code: z.string(), name: z.string() })),
            }),
            ...errors,
          },
        },
      },
      async (req) => staff.grantable(req.principal),
    );
  };
}

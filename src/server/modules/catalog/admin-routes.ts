import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FeesSchema, TimeLimitSchema, VariancesSchema } from '../../../domain/catalog.ts';
import { AppError } from '../../../domain/errors.ts';
import { ErrorBodySchema, errorResponses } from '../../http/errors.ts';
import { offsetPage, offsetQuery } from '../../http/paging.ts';
import type { CatalogService, DepartmentDirectory } from './service.ts';
import type { CatalogFileFormat } from './workbook.ts';

const errors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema };

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const UPLOAD_TYPES: Readonly<Record<string, CatalogFileFormat>> = {
  [XLSX_TYPE]: 'xlsx',
  'text/csv': 'csv',
};

export const ImplementationAdminSchema = z
  .object({
    code: z.string().describe('实施编码 <basic code>-<division code>'),
    itemCode: z.string(),
    itemName: z.string(),
    divisionCode: z.string(),
    departmentId: z.string().nullable(),
    variances: VariancesSchema.describe('this division’s own variances; absent fields inherit'),
    standard: z
      .object({
        legalTimeLimit: TimeLimitSchema.nullable(),
        promisedTimeLimit: TimeLimitSchema,
        fees: FeesSchema,
        caseType: z.string(),
      })
      .describe('the provincial standard of the variable fields'),
  })
  .meta({ id: 'ImplementationAdmin' });

const IssueSchema = z.object({
  field: z
    .string()
    .describe('e.g. "sheet 事项, row 12, column 承诺办结时限" or implementations.3.divisionCode'),
  message: z.string(),
  sheet: z.string().nullable(),
  row: z.number().int().nullable(),
  column: z.string().nullable(),
});

/**
 * The admin side of the catalog (./policy.ts): a division's implementation list and its local variances
 * (`GET /api/v1/divisions/{code}/implementations`, `PUT /api/v1/implementations/{code}/variances`), and the
 * catalog workbook over HTTP (`POST /api/v1/catalog/import`, `GET /api/v1/catalog/export`).
 */
export function catalogAdminRoutes(deps: {
  catalog: CatalogService;
  departments: DepartmentDirectory;
}): FastifyPluginAsyncZod {
  const { catalog } = deps;
  return async (app) => {
    const maxBytes = catalog.importMaxBytes;
    // Encapsulated in this plugin: the workbook as a raw body, refused by Content-Length before it is read.
    app.addContentTypeParser(
      Object.keys(UPLOAD_TYPES),
      { parseAs: 'buffer', bodyLimit: maxBytes },
      (_req, body, done) => done(null, body),
    );

    app.get(
      '/api/v1/divisions/:code/implementations',
      {
        schema: {
          tags: ['catalog-admin'],
          summary:
            'The implementation list (实施清单) of my division, with the standard of each variable field',
          description:
            'Administrators of the division (implementation.manage: county, prefecture, province admins; 403 `implementation.out_of_scope`). Implementations at exactly this division, by item code; `q` matches the item name or code.',
          params: z.object({ code: z.string().max(12) }),
          querystring: offsetQuery({ max: 200, fallback: 50, q: 'part of the item name or code' }),
          response: {
            200: offsetPage(ImplementationAdminSchema),
            ...errors,
          },
        },
      },
      async (req) => catalog.listDivisionImplementations(req.principal, req.params.code, req.query),
    );

    app.put(
      '/api/v1/implementations/:code/variances',
      {
        schema: {
          tags: ['catalog-admin'],
          summary: 'Replace the local variances of an implementation (实施清单的地方差异)',
          description:
            'Allowed fields only: promisedTimeLimit (≤ the legal limit, same unit compared; 0 for a 即办件), fees, notes, acceptingHallCodes (existing halls). An absent field inherits from the parent division, then the provincial standard; `{}` clears all. Anything else (the legal limit, materials, conditions …) is refused: 400 `implementation.invalid_variances` listing every field, with what is allowed. Audited (`implementation.variances_update`, before/after).',
          params: z.object({ code: z.string().max(100) }),
          body: z.strictObject({
            variances: z.record(z.string(), z.unknown()),
            reason: z.string().max(500).optional(),
          }),
          response: { 200: ImplementationAdminSchema, ...errors },
        },
      },
      async (req) =>
        catalog.setVariances(req.principal, req.params.code, req.body.variances, req.body.reason),
    );

    app.post(
      '/api/v1/catalog/import',
      {
        bodyLimit: maxBytes,
        schema: {
          tags: ['catalog-admin'],
          summary:
            'Import the catalog workbook (.xlsx or .csv); dryRun=true checks without changing anything',
          description: `Province administrators only (403 \`catalog.province_admin_only\`). Body: the file's bytes with Content-Type ${XLSX_TYPE} or text/csv (UTF-8), at most ${maxBytes} bytes (CATALOG_IMPORT_MAX_BYTES; 413 beyond). dryRun=true: 200 with valid and every issue by sheet / row / column, nothing changed. Otherwise: the import, the implementation list of its items bound to departments and the audit entry (admin.catalog_import) in one transaction; an invalid file is 400 catalog.invalid_file / catalog.invalid_import listing every issue, nothing changed.`,
          headers: z.object({ 'content-type': z.string() }),
          querystring: z.object({
            dryRun: z
              .enum(['true', 'false'])
              .default('false')
              .transform((v) => v === 'true'),
            reason: z.string().max(500).optional(),
          }),
          response: {
            200: z.object({
              dryRun: z.boolean(),
              valid: z.boolean(),
              applied: z.boolean(),
              summary: z
                .object({
                  items: z.number().int(),
                  materials: z.number().int(),
                  variances: z.number().int(),
                  industries: z.number().int(),
                })
                .nullable(),
              issues: z.array(IssueSchema),
              implementations: z
                .object({ implementations: z.number().int(), unbound: z.number().int() })
                .nullable(),
            }),
            ...errors,
            413: ErrorBodySchema,
          },
        },
      },
      async (req) => {
        const type = String(req.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        const format = UPLOAD_TYPES[type];
        if (!format || !Buffer.isBuffer(req.body))
          throw new AppError(
            'validation',
            'catalog.unsupported_format',
            `Send the workbook as the body with Content-Type ${XLSX_TYPE} (.xlsx) or text/csv (.csv).`,
            { field: 'content-type' },
          );
        return catalog.importUpload(req.principal, req.body, {
          format,
          dryRun: req.query.dryRun,
          directory: deps.departments,
          ...(req.query.reason ? { reason: req.query.reason } : {}),
        });
      },
    );

    app.get(
      '/api/v1/catalog/export',
      {
        schema: {
          tags: ['catalog-admin'],
          summary: 'Download the whole catalog as a workbook (.xlsx by default, or format=csv)',
          description:
            'Administrators of implementation lists (county, prefecture, province; 403 `catalog.admin_only`). The import layout (sheets 事项, 材料, 实施清单, 表单, 说明): export → import round-trips.',
          querystring: z.object({ format: z.enum(['xlsx', 'csv']).default('xlsx') }),
          response: { 200: z.any().describe('the workbook bytes'), ...errors },
        },
      },
      async (req, reply) => {
        const bytes = await catalog.exportWorkbook(req.principal, req.query.format);
        const name = `tongban-catalog.${req.query.format}`;
        return reply
          .header('content-type', req.query.format === 'xlsx' ? XLSX_TYPE : 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}"`)
          .send(bytes);
      },
    );
  };
}

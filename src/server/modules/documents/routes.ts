import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import type { CasesService } from '../cases/service.ts';
import { requirePrincipal } from '../identity/policy.ts';
import { DOCUMENT_KINDS, type DocumentsService } from './service.ts';

const params = z.object({ ref: z.string().describe('21-digit case number or case id') });
const readHeaders = z.object({ 'x-tongban-actor': z.string().optional() });

export const CaseDocumentSchema = z
  .object({
    id: z.string(),
    kind: z.enum(DOCUMENT_KINDS),
    title: z.string().describe('中文 title, e.g. 受理通知书'),
    number: z.string().describe('文号, e.g. 威宁县民政局受字〔2026〕第000001号'),
    eventSeq: z.number().int().describe('seq of the timeline event the document belongs to'),
    sm3: z.string().describe('SM3 digest of the PDF (GB/T 32905-2016), 64 hex digits'),
    bytes: z.number().int().describe('size of the PDF in bytes'),
    issuedAt: z.string().describe('the document’s date: the event’s instant (ISO 8601)'),
    createdAt: z.string(),
    downloadUrl: z.string().describe('GET this path for the PDF'),
  })
  .meta({ id: 'CaseDocument' });

/**
 * 文书 routes: the documents of a case and their PDFs. Whoever may read the case may read its documents
 * (cases/policy.ts `mayReadCase` through `requireAccess`; others get 404 `case.not_found`).
 */
export function documentsRoutes(deps: {
  documents: DocumentsService;
  cases: Pick<CasesService, 'requireAccess'>;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/cases/:ref/documents',
      {
        schema: {
          tags: ['documents'],
          summary:
            'The documents (文书) of a case: 收件凭证, 补正告知书, 受理 / 不予受理通知书, 准予 / 不予许可决定书, 送达回证',
          description:
            'Oldest event first. Documents the timeline calls for and not yet issued by the background job are issued on the way (idempotent).',
          params,
          headers: readHeaders,
          response: {
            200: z.object({ items: z.array(CaseDocumentSchema) }),
            ...errorResponses,
            503: errorResponses[500],
          },
        },
      },
      async (req) => {
        await deps.cases.requireAccess(requirePrincipal(req.principal), req.params.ref, null);
        return { items: await deps.documents.list(req.params.ref) };
      },
    );

    app.get(
      '/api/v1/cases/:ref/documents/:id',
      {
        schema: {
          tags: ['documents'],
          summary: 'A document as PDF, verified against its recorded SM3 digest',
          description:
            'Response headers: Content-Type application/pdf, Content-Disposition with the title and 文号 as filename, X-Tongban-SM3.',
          params: params.extend({ id: z.string().max(64).describe('the document id from the list') }),
          headers: readHeaders,
          response: {
            200: z.string().meta({ format: 'binary' }).describe('the PDF'),
            ...errorResponses,
            503: errorResponses[500],
          },
        },
      },
      async (req, reply) => {
        await deps.cases.requireAccess(requirePrincipal(req.principal), req.params.ref, null);
        const file = await deps.documents.download(req.params.ref, req.params.id);
        const ascii = `${file.view.kind}-${file.view.id}.pdf`;
        return reply
          .header('content-type', 'application/pdf')
          .header('content-length', file.body.length)
          .header(
            'content-disposition',
            `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
          )
          .header('x-content-type-options', 'nosniff')
          .header('cache-control', 'private, no-store')
          .header('x-tongban-sm3', file.view.sm3)
          .send(file.body as unknown as string);
      },
    );
  };
}

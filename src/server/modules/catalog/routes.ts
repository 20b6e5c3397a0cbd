import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  BasicCodeSchema,
  codeListIds,
  DIVISION_CODE_PATTERN,
  EXERCISE_LEVELS,
  GuideSchema,
  ImplementationSchema,
  INDUSTRIES,
  ITEM_TYPES,
  SERVICE_OBJECTS,
  ServiceItemSchema,
  ServiceItemSummarySchema,
} from '../../../domain/catalog.ts';
import { DEPARTMENT_KIND_CODES, type DepartmentKind } from '../../../domain/department.ts';
import { errorResponses } from '../../http/errors.ts';
import { offsetPage } from '../../http/paging.ts';
import { type CatalogService, industryLabel } from './service.ts';

/** What the routes need from the search module (CatalogSearchIndex satisfies it). */
export interface CatalogSearcher {
  search(query: {
    q: string;
    industry?: string;
    division?: string;
    serviceObject?: string;
    limit?: number;
    offset?: number;
  }):
    | {
        total: number;
        results: { code: string; name: string; industry: string; score: number; popularity?: number }[];
      }
    | Promise<{
        total: number;
        results: { code: string; name: string; industry: string; score: number; popularity?: number }[];
      }>;
}

const SearchResultSchema = z
  .object({
    total: z.number().int().describe('number of matching items before offset/limit'),
    results: z.array(
      z.object({
        code: z.string().describe('基本编码 basic code of the item'),
        name: z.string(),
        industry: z.string().describe('所属行业 label, e.g. 社会保险'),
        score: z.number().describe('relevance, about 0–1.1'),
        popularity: z.number().optional(),
      }),
    ),
  })
  .meta({ id: 'CatalogSearchResult' });

const ItemPageSchema = offsetPage(ServiceItemSummarySchema).meta({ id: 'ServiceItemPage' });

const IndustrySchema = z
  .object({ id: z.string(), label: z.string().describe('中文 label'), items: z.number().int() })
  .meta({ id: 'Industry' });

const codeParams = z.object({ code: BasicCodeSchema });

/**
 * Catalog routes (GB/T 39046-2020): `GET /api/v1/catalog/items`, `/items/{code}`, `/items/{code}/guide`,
 * `/items/{code}/implementations`, `/search`, `/industries`. Errors use the one error model
 * (`catalog.item_not_found` 404, `division.not_found` 404, `division.format`/`division.length` 400, validation 400).
 */
export function catalogRoutes(deps: {
  catalog: CatalogService;
  search: CatalogSearcher;
  /** Checks that a division filter names a real division (404 `division.not_found` otherwise). */
  regions: { getDivision(code: string, field?: string): Promise<unknown> };
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/catalog/items',
      {
        schema: {
          tags: ['catalog'],
          summary: 'List service items (基本目录) with filters, most popular first',
          querystring: z.object({
            industry: z
              .enum(codeListIds(INDUSTRIES))
              .optional()
              .describe('所属行业 identifier, e.g. social_insurance'),
            itemType: z.enum(codeListIds(ITEM_TYPES)).optional().describe('事项类型 (A.1) identifier'),
            departmentKind: z
              .enum(DEPARTMENT_KIND_CODES as [DepartmentKind, ...DepartmentKind[]])
              .optional()
              .describe('implementing department kind'),
            serviceObject: z
              .enum(codeListIds(SERVICE_OBJECTS))
              .optional()
              .describe('服务对象 (A.4) identifier'),
            level: z.enum(codeListIds(EXERCISE_LEVELS)).optional().describe('行使层级 (A.2) identifier'),
            q: z.string().trim().min(1).max(100).optional().describe('part of the name or an alias'),
            limit: z.coerce.number().int().min(1).max(200).default(50),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: ItemPageSchema, ...errorResponses },
        },
      },
      async (req) => {
        const { level, ...rest } = req.query;
        return deps.catalog.listItems({ ...rest, ...(level ? { exerciseLevel: level } : {}) });
      },
    );

    app.get(
      '/api/v1/catalog/items/:code',
      {
        schema: {
          tags: ['catalog'],
          summary: 'One service item (基本目录, provincial standard) with its materials',
          params: codeParams,
          response: { 200: ServiceItemSchema, ...errorResponses },
        },
      },
      async (req) => deps.catalog.getItem(req.params.code),
    );

    app.get(
      '/api/v1/catalog/items/:code/guide',
      {
        schema: {
          tags: ['catalog'],
          summary:
            'The guide (办事指南) of an item for a division, local variances applied with fallback to the parent',
          params: codeParams,
          querystring: z.object({
            division: z.string().min(1).describe('GB/T 2260 division code (2/4/6/9/12 digits), e.g. 520102'),
          }),
          response: { 200: GuideSchema, ...errorResponses },
        },
      },
      async (req) => deps.catalog.getGuide(req.params.code, req.query.division),
    );

    app.get(
      '/api/v1/catalog/items/:code/implementations',
      {
        schema: {
          tags: ['catalog'],
          summary:
            'The implementation list (实施清单) of an item: one per division, with its department and variances',
          params: codeParams,
          response: { 200: z.object({ items: z.array(ImplementationSchema) }), ...errorResponses },
        },
      },
      async (req) => ({ items: await deps.catalog.listImplementations(req.params.code) }),
    );

    app.get(
      '/api/v1/catalog/search',
      {
        schema: {
          tags: ['catalog'],
          summary:
            'Search service items by words, pinyin (full or initials) or colloquial names; ranked by relevance then popularity',
          querystring: z.object({
            q: z
              .string({ error: 'q is required: give a word, a pinyin spelling or initials, e.g. q=社保卡' })
              .trim()
              .min(1, 'q is empty: give a word, a pinyin spelling or initials, e.g. q=社保卡')
              .max(100, 'q is longer than 100 characters: use a few words')
              .describe('what to look for, e.g. 社保卡补办, shebaoka, sbk'),
            industry: z.string().max(50).optional().describe('所属行业 identifier or label'),
            division: z
              .string()
              .regex(DIVISION_CODE_PATTERN, 'use a GB/T 2260 division code of 2, 4, 6, 9 or 12 digits')
              .optional()
              .describe('only items available in this division'),
            serviceObject: z.enum(codeListIds(SERVICE_OBJECTS)).optional(),
            limit: z.coerce.number().int().min(1).max(100).default(20),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: SearchResultSchema, ...errorResponses },
        },
      },
      async (req) => {
        const { industry, ...rest } = req.query;
        if (rest.division) await deps.regions.getDivision(rest.division, 'division');
        return deps.search.search({ ...rest, ...(industry ? { industry: industryLabel(industry) } : {}) });
      },
    );

    app.get(
      '/api/v1/catalog/industries',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Industries (所属行业) that have items, with item counts',
          response: { 200: z.object({ items: z.array(IndustrySchema) }), ...errorResponses },
        },
      },
      async () => ({ items: await deps.catalog.listIndustries() }),
    );
  };
}

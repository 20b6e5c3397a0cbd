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
  PROCESSING_MODES,
  SERVICE_OBJECTS,
  ServiceItemSchema,
  ServiceItemSummarySchema,
} from '../../../domain/catalog.ts';
import { DEPARTMENT_KIND_CODES, type DepartmentKind } from '../../../domain/department.ts';
import { CACHE, cacheable } from '../../http/caching.ts';
import { errorResponses } from '../../http/errors.ts';
import { offsetPage } from '../../http/paging.ts';
import { LifeEventSchema } from './life-events.ts';
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

/** Days of cases counted for "popular in my county". */
export const POPULAR_WINDOW_DAYS = 90;

/** What the popular list needs from the case engine (CasesService satisfies it). */
export interface CaseDemand {
  /** Cases filed with intake in `countyCode` during the last `windowDays` calendar days, per item. */
  filedPerItem(countyCode: string, windowDays: number): Promise<{ itemCode: string; cases: number }[]>;
}

/** The offline search keys of an item (the search service satisfies it). */
export interface OfflineKeySource {
  offlineKeys(
    name: string,
    aliases: readonly string[],
  ): { pinyin: string; initials: string; synonyms?: string[]; synonymPinyin?: string[] };
}

const countyDivision = z
  .string({ error: 'division is required: the 6-digit code of your county, e.g. division=520102' })
  .regex(
    /^(\d{6}|\d{9}|\d{12})$/,
    'use the 6-digit GB/T 2260 code of a county (a 9-digit township or 12-digit village code works too), e.g. 520102',
  )
  .describe('GB/T 2260 county code (6 digits; township 9 or village 12 digits also accepted), e.g. 520102');

const PopularItemSchema = z
  .object({
    code: z.string().describe('基本编码'),
    name: z.string(),
    industry: z.string().describe('所属行业 identifier, e.g. social_insurance'),
    industryLabel: z.string().describe('所属行业 中文 label, e.g. 社会保险'),
    cases: z.number().int().describe('cases filed in the county in the window (0 when none)'),
    popularity: z.number().int().describe('the catalog’s 热度 0–100'),
    basis: z
      .enum(['cases', 'popularity'])
      .describe('ranked by local cases (at least 3 in the window), or by the catalog popularity (fallback)'),
  })
  .meta({ id: 'PopularItem' });

const PopularSchema = z
  .object({
    divisionCode: z.string(),
    countyCode: z.string(),
    windowDays: z.number().int().describe('cases counted over this many calendar days'),
    items: z.array(PopularItemSchema),
  })
  .meta({ id: 'PopularItems' });

const LifeEventViewSchema = LifeEventSchema.extend({
  items: z.array(
    z.object({ code: z.string(), name: z.string(), industry: z.string(), industryLabel: z.string() }),
  ),
}).meta({ id: 'LifeEventWithItems' });

const SyncGuideSchema = z
  .object({
    code: z.string().describe('基本编码'),
    name: z.string(),
    industry: z.string().describe('所属行业 identifier, e.g. social_insurance'),
    industryLabel: z.string().describe('所属行业 中文 label'),
    pinyin: z.string().describe('toneless pinyin of the name, e.g. shehuibaozhangkabuling'),
    initials: z.string().describe('pinyin initials of the name, e.g. shbzkbl'),
    synonyms: z
      .array(z.string())
      .optional()
      .describe('aliases and colloquial terms (俗称); absent when none'),
    synonymPinyin: z
      .array(z.string())
      .optional()
      .describe('full pinyin and initials of each synonym, e.g. shebaoka, sbk; absent when none'),
    popularity: z.number().int().describe('热度 0–100, to rank offline results like the online search'),
    guide: GuideSchema.describe('the guide for the division, as GET /api/v1/catalog/items/{code}/guide'),
  })
  .meta({ id: 'SyncGuide' });

const CatalogSyncSchema = z
  .object({
    cursor: z.string().describe('send it as `since` next time to get only what changed'),
    full: z.boolean().describe('true: `items` is everything (replace what you hold); false: a delta'),
    items: z.array(SyncGuideSchema).describe('full: every item shown here; delta: the changed ones'),
    removed: z
      .array(z.string())
      .describe(
        'delta: codes of changed items no longer shown here — drop them (may name items you never had)',
      ),
    lifeEvents: z.array(LifeEventSchema).describe('人生事件 for the browse screen (whole list every time)'),
    popular: z.array(PopularItemSchema).describe('popular services of the county (whole list every time)'),
  })
  .meta({ id: 'CatalogSync' });

/**
 * Catalog routes (GB/T 39046-2020): `GET /api/v1/catalog/items`, `/items/{code}`, `/items/{code}/guide`,
 * `/items/{code}/implementations`, `/search`, `/industries`. Errors use the one error model
 * (`catalog.item_not_found` 404, `division.not_found` 404, `division.format`/`division.length` 400, validation 400).
 */
export function catalogRoutes(deps: {
  catalog: CatalogService;
  search: CatalogSearcher & OfflineKeySource;
  /** Checks that a division filter names a real division (404 `division.not_found` otherwise). */
  regions: { getDivision(code: string, field?: string): Promise<unknown> };
  /** Case counts for "popular in my county"; without it the list falls back to catalog popularity. */
  cases?: CaseDemand;
}): FastifyPluginAsyncZod {
  const popular = async (division: string, limit: number) => {
    const county = division.slice(0, 6);
    const filed = deps.cases ? await deps.cases.filedPerItem(county, POPULAR_WINDOW_DAYS) : [];
    return deps.catalog.popular(division, filed, limit);
  };
  return async (app) => {
    app.get(
      '/api/v1/catalog/items',
      {
        ...cacheable(CACHE.reference),
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
            processingMode: z
              .enum(codeListIds(PROCESSING_MODES))
              .optional()
              .describe('办理模式 identifier, e.g. online (全程网办)'),
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
        ...cacheable(CACHE.reference),
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
        ...cacheable(CACHE.reference),
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
        ...cacheable(CACHE.short),
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
        ...cacheable(CACHE.reference),
        schema: {
          tags: ['catalog'],
          summary: 'Industries (所属行业) that have items, with item counts',
          response: { 200: z.object({ items: z.array(IndustrySchema) }), ...errorResponses },
        },
      },
      async () => ({ items: await deps.catalog.listIndustries() }),
    );

    app.get(
      '/api/v1/catalog/life-events',
      {
        ...cacheable(CACHE.reference),
        schema: {
          tags: ['catalog'],
          summary:
            'Life events (人生事件: 出生, 上学, 就业创业 …) for browsing, each with its items (name and industry)',
          description:
            'From data/catalog/life-events.json (sample curation). Only items the citizen app shows (serving natural persons). Cache-Control public, max-age=300, stale-while-revalidate; strong ETag.',
          response: { 200: z.object({ items: z.array(LifeEventViewSchema) }), ...errorResponses },
        },
      },
      async () => ({ items: await deps.catalog.lifeEvents() }),
    );

    app.get(
      '/api/v1/catalog/popular',
      {
        ...cacheable(CACHE.reference),
        schema: {
          tags: ['catalog'],
          summary: `Popular services in my county: by cases filed there in the last ${POPULAR_WINDOW_DAYS} days, else by catalog popularity`,
          description:
            'Items the citizen app shows (serving natural persons) available in the county. An item with at least 3 cases filed with intake in the county in the window ranks by its count (`basis: cases`); the rest of the list — all of it when the county has too few cases — by the catalog’s 热度 (`basis: popularity`).',
          querystring: z.object({
            division: countyDivision,
            limit: z.coerce.number().int().min(1).max(50).default(10),
          }),
          response: { 200: PopularSchema, ...errorResponses },
        },
      },
      async (req) => ({
        divisionCode: req.query.division,
        countyCode: req.query.division.slice(0, 6),
        windowDays: POPULAR_WINDOW_DAYS,
        items: await popular(req.query.division, req.query.limit),
      }),
    );

    app.get(
      '/api/v1/catalog/sync',
      {
        ...cacheable(CACHE.revalidate),
        schema: {
          tags: ['catalog'],
          summary:
            'Offline catalog sync (离线可办): every guide the citizen app shows for a county, with offline search keys; deltas after a cursor',
          description:
            'Without `since` (or with a cursor this server does not recognise: malformed, another division, a newer catalog) `full: true` and every item served to natural persons with an implementation for the division; with the `cursor` of an earlier answer only the items changed since (`full: false`) and in `removed` the codes of changed items no longer shown. Each item carries its guide (as GET …/guide returns it) and search keys computed on the server (pinyin, initials, aliases and colloquial terms with their pinyin), so the browser needs no pinyin library. Also the life events and the popular list of the county, so the home screen works offline. `Cache-Control: no-cache` with a strong ETag: revalidate with If-None-Match → 304 when nothing changed. Compressed (br/gzip) when the client accepts it.',
          querystring: z.object({
            division: countyDivision,
            since: z.string().max(100).optional().describe('the `cursor` of your last sync'),
          }),
          response: { 200: CatalogSyncSchema, ...errorResponses },
        },
      },
      async (req) => {
        const slice = await deps.catalog.syncGuides(req.query.division, req.query.since);
        const [lifeEvents, top] = await Promise.all([
          deps.catalog.lifeEvents(),
          popular(req.query.division, 10),
        ]);
        const shown = new Set(slice.full ? slice.guides.map((g) => g.item.code) : []);
        return {
          cursor: slice.cursor,
          full: slice.full,
          items: slice.guides.map((guide) => ({
            code: guide.item.code,
            name: guide.item.name,
            industry: guide.item.industry,
            industryLabel: industryLabel(guide.item.industry),
            ...deps.search.offlineKeys(guide.item.name, guide.item.aliases),
            popularity: guide.item.popularity,
            guide,
          })),
          removed: slice.removed,
          lifeEvents: lifeEvents
            .map(({ items: _items, ...e }) => ({
              ...e,
              itemCodes: slice.full ? e.itemCodes.filter((c) => shown.has(c)) : e.itemCodes,
            }))
            .filter((e) => e.itemCodes.length > 0),
          popular: top,
        };
      },
    );
  };
}

/**
 * The citizen app's client for the public API (/api/v1, OpenAPI at /docs/json). Errors come back as
 * {@link ApiError} carrying the server's stable `code`, so views can explain them in plain words.
 */
import type { Guide, ServiceItem } from '../../domain/catalog.ts';
import { reportReachable, reportUnreachable } from './offline/network.ts';

export type { Guide, ServiceItem };
export type GuideItem = Guide['item'];
export type ExerciseLevel = GuideItem['exerciseLevels'][number];
export type Fee = GuideItem['fees']['items'][number];
export type Material = GuideItem['materials'][number];
export type TimeLimit = GuideItem['promisedTimeLimit'];

export interface SearchResult {
  code: string;
  name: string;
  industry: string;
  score: number;
}

export type DivisionLevel = 'province' | 'prefecture' | 'county' | 'township' | 'village';

export interface Division {
  code: string;
  name: string;
  level: DivisionLevel;
  parentCode: string | null;
}

/** The hall's service status (正常服务 / 暂停服务 / 服务降级 / 离线), not whether it is open at this hour. */
export type HallStatus = 'open' | 'closed' | 'degraded' | 'offline';
/** Levels that have halls and that the resident-facing list offers. */
export type HallLevel = 'province' | 'prefecture' | 'county' | 'township';

export interface Hall {
  code: string;
  name: string;
  kind: 'government_service_center' | 'convenience_service_center' | 'service_station';
  level: DivisionLevel;
  divisionCode: string;
  countyCode: string | null;
  latitude: number;
  longitude: number;
  locationApproximate: boolean;
  /** the full address, e.g. 贵州省贵阳市南明区新华路街道… */
  address: string;
  windows: number;
  openingHours: { weekdays: string[]; saturday?: string[]; sunday?: string[]; note?: string };
  capabilities: string[];
  /** open right now by its hours on the working-day calendar (Asia/Shanghai); null when unknown */
  openNow: boolean | null;
  status: HallStatus;
  distanceKm?: number;
}

export interface Department {
  id: string;
  name: string;
  kind: string;
  divisionCode: string;
}

/** One field problem as the API names it (`error.issues` of a 400), e.g. `formData.lossDate`. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Why a request failed: `network` (no answer), or the HTTP status with the server's error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  /** every field problem the server listed (a 400 may name several at once) */
  readonly issues: FieldIssue[];
  constructor(
    status: number,
    code: string,
    message: string,
    field: string | null = null,
    issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.issues = issues;
  }
  get network(): boolean {
    return this.status === 0;
  }
}

/**
 * The {@link ApiError} of a failed response: the server's `{ error: { code, message, field, issues } }`,
 * or just the status when the body is not JSON (e.g. a proxy page). Reads the body.
 */
export async function apiErrorOf(res: Response): Promise<ApiError> {
  let code = `http.${res.status}`;
  let message = res.statusText;
  let field: string | null = null;
  let issues: FieldIssue[] = [];
  try {
    const body = (await res.json()) as {
      error?: { code?: string; message?: string; field?: string | null; issues?: FieldIssue[] };
    };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      field = body.error.field ?? null;
      issues = Array.isArray(body.error.issues) ? body.error.issues : [];
    }
  } catch {
    // not JSON (e.g. a proxy page): keep the status
  }
  return new ApiError(res.status, code, message, field, issues);
}

/** A fetch that failed without an answer (offline, DNS, reset) as `ApiError(0, 'network')`; aborts pass through. */
export function networkError(e: unknown): unknown {
  if (e instanceof DOMException && e.name === 'AbortError') return e;
  return new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
}

/**
 * GET `path` with query `params` (empty values left out) as JSON. `cache: 'no-cache'` revalidates with the
 * server (ETag) instead of using a fresh copy from the browser's HTTP cache.
 * @throws ApiError — status 0 / code `network` when there is no answer, else the HTTP status with the
 *   server's error code, message and field; AbortError when `signal` aborts.
 */
export async function getJson<T>(
  path: string,
  params: Record<string, string | number | undefined>,
  signal?: AbortSignal,
  cache: RequestCache = 'default',
) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const url = qs.size > 0 ? `${path}?${qs}` : path;
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ?? null, cache, headers: { accept: 'application/json' } });
  } catch (e) {
    const err = networkError(e);
    if (err instanceof ApiError) reportUnreachable();
    throw err;
  }
  if (!(res.headers.get('content-type') ?? '').includes('json')) {
    // not our server's answer (a captive portal's login page, a proxy's error page): as if offline
    reportUnreachable();
    throw new ApiError(0, 'network', `HTTP ${res.status} without JSON (a Wi-Fi login page?)`);
  }
  reportReachable();
  if (!res.ok) throw await apiErrorOf(res);
  return (await res.json()) as T;
}

export const api = {
  search: (q: string, division: string, signal?: AbortSignal) =>
    getJson<{ results: SearchResult[] }>('/api/v1/catalog/search', { q, division, limit: 20 }, signal),

  /** `fresh`: revalidate with the server (e.g. to fix an application the server refused by the current form). */
  guide: (code: string, division: string, signal?: AbortSignal, fresh = false) =>
    getJson<Guide & { department?: Department | null }>(
      `/api/v1/catalog/items/${encodeURIComponent(code)}/guide`,
      { division },
      signal,
      fresh ? 'no-cache' : 'default',
    ),

  divisions: (params: { level?: DivisionLevel; parent?: string }, signal?: AbortSignal) =>
    getJson<{ items: Division[]; next: string | null }>(
      '/api/v1/divisions',
      { ...params, limit: 200 },
      signal,
    ),

  /** The provincial standard of an item (基本目录), without local variances. */
  item: (code: string, signal?: AbortSignal) =>
    getJson<ServiceItem>(`/api/v1/catalog/items/${encodeURIComponent(code)}`, {}, signal),

  division: (code: string, signal?: AbortSignal) =>
    getJson<Division>(`/api/v1/divisions/${encodeURIComponent(code)}`, {}, signal),

  /** The `limit` halls of the given levels nearest to a point, nearest first, with `distanceKm`. */
  hallsNear: (
    latitude: number,
    longitude: number,
    levels: readonly HallLevel[],
    limit: number,
    signal?: AbortSignal,
  ) =>
    getJson<{ items: Hall[] }>(
      '/api/v1/halls',
      { near: `${latitude.toFixed(5)},${longitude.toFixed(5)}`, level: levels.join(','), limit },
      signal,
    ),

  /** Halls of one level located in a division (its whole subtree). */
  hallsOfDivision: (division: string, level: HallLevel, limit: number, signal?: AbortSignal) =>
    getJson<{ items: Hall[] }>('/api/v1/halls', { division, level, limit }, signal),

  hall: (code: string, signal?: AbortSignal) =>
    getJson<Hall>(`/api/v1/halls/${encodeURIComponent(code)}`, {}, signal),

  department: (id: string, signal?: AbortSignal) =>
    getJson<Department>(`/api/v1/departments/${encodeURIComponent(id)}`, {}, signal),

  departments: (division: string, kind: string, signal?: AbortSignal) =>
    getJson<{ items: Department[] }>('/api/v1/departments', { division, kind }, signal),
};

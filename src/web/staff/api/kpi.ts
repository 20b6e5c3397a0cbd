/**
 * The dashboard's API calls (issue 7, 看板): the KPIs of a division or a hall over a period, checked
 * against the domain's {@link KpiDashboardSchema} (src/domain/kpi.ts, the one contract with the server),
 * and the names of the units above a scope for the breadcrumb (public reference routes).
 */
import { type KpiDashboard, KpiDashboardSchema } from '../../../domain/kpi.ts';
import { api } from './client.ts';
import { ApiError, request } from './http.ts';

export type { KpiDashboard };

/** A division (2/4/6-digit GB/T 2260 code) or a hall (hall code). */
export interface KpiScope {
  kind: 'division' | 'hall';
  code: string;
}

/**
 * `GET /api/v1/kpi/dashboard?division=|hall=&from=&to=` (`from`/`to`: inclusive `YYYY-MM-DD` days,
 * Asia/Shanghai). @throws ApiError — 403 outside the caller's `dashboard.read` scope, 400 for a bad
 * range, and `contract.mismatch` when the answer is not a KpiDashboard (server and web app out of step).
 */
export async function kpiDashboard(
  scope: KpiScope,
  from: string,
  to: string,
  signal?: AbortSignal,
): Promise<KpiDashboard> {
  const body = await request<unknown>('GET', '/api/v1/kpi/dashboard', {
    query: { [scope.kind]: scope.code, from, to },
    ...(signal ? { signal } : {}),
  });
  const parsed = KpiDashboardSchema.safeParse(body);
  if (!parsed.success)
    throw new ApiError(200, 'contract.mismatch', `unexpected dashboard answer: ${parsed.error.message}`);
  return parsed.data;
}

/** One step of the breadcrumb (province → prefecture → county → hall). */
export interface ScopeStep {
  kind: 'division' | 'hall';
  code: string;
  name: string;
  /** province | prefecture | county | hall */
  level: string;
}

/**
 * The chain from the province down to `scope` (inclusive) with names: a division's ancestors from
 * `GET /api/v1/divisions/{code}`; a hall's from its division (townships skipped: the dashboard drills
 * county → hall). @throws ApiError (404 for an unknown code).
 */
export async function scopeChain(scope: KpiScope): Promise<ScopeStep[]> {
  let hall: ScopeStep | null = null;
  let divisionCode = scope.code;
  if (scope.kind === 'hall') {
    const h = await api.hall(scope.code);
    hall = { kind: 'hall', code: h.code, name: h.name, level: 'hall' };
    divisionCode = h.divisionCode;
  }
  const d = await request<{
    code: string;
    name: string;
    level: string;
    ancestors: { code: string; name: string; level: string }[];
  }>('GET', `/api/v1/divisions/${encodeURIComponent(divisionCode)}`);
  const steps = [...d.ancestors].reverse().concat([{ code: d.code, name: d.name, level: d.level }]);
  return steps
    .filter((s) => ['province', 'prefecture', 'county'].includes(s.level))
    .map((s): ScopeStep => ({ kind: 'division', ...s }))
    .concat(hall ? [hall] : []);
}

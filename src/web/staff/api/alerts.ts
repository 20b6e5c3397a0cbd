/**
 * 预警 in the staff API client: the alerts of the caller's scope, acknowledge (签收) and resolve (处置完毕),
 * the rules and their thresholds. Shapes follow docs/openapi.json (`Alert`); errors are {@link ApiError}s.
 */
import type { Alert, AlertRule, AlertStatus } from '../../../domain/alerts.ts';
import { newIdempotencyKey, request } from './http.ts';

/** An alert as the API answers it: the domain {@link Alert} plus its place and the acknowledgement's note. */
export type AlertView = Alert & {
  place: string;
  period: string;
  departmentId: string | null;
  acknowledgeNote: string | null;
};

export interface AlertFilter {
  /** active = open or acknowledged. */
  status?: AlertStatus | 'active';
  rule?: AlertRule;
  /** GB/T 2260 code: alerts in that subtree (must lie in the caller's scope). */
  division?: string;
  limit?: number;
}

const enc = encodeURIComponent;

export const alertsApi = {
  list: (filter: AlertFilter = {}) =>
    request<{ items: AlertView[]; total: number }>('GET', '/api/v1/alerts', {
      query: { ...filter } as Record<string, string | number | undefined>,
    }),
  rules: () =>
    request<{
      rules: { id: AlertRule; name: string }[];
      thresholds: Record<string, Record<string, number>>;
    }>('GET', '/api/v1/alerts/rules'),
  /** `key`: one per user action, the same on a retry of it. */
  acknowledge: (id: string, note: string, key: string = newIdempotencyKey()) =>
    request<AlertView>('POST', `/api/v1/alerts/${enc(id)}/acknowledge`, {
      body: note ? { note } : {},
      idempotencyKey: key,
    }),
  resolve: (id: string, resolution: string, key: string = newIdempotencyKey()) =>
    request<AlertView>('POST', `/api/v1/alerts/${enc(id)}/resolve`, {
      body: { resolution },
      idempotencyKey: key,
    }),
};

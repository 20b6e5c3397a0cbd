/**
 * 好差评 calls of the staff workbench: rectifications (整改) with the call-back (回访) and outcome, appeals
 * (申诉) and the reviewer's queue (复核), and the hall tablet's rating (评价器). Shapes follow
 * docs/openapi.json (`Rectification`, `EvaluationAppeal`, `RatingStatus`); errors are {@link ApiError}s.
 */
import type { AppealView, RatingStatus, RectificationView } from '../../../domain/evaluation.ts';
import { request } from './http.ts';

export type { AppealView, RatingStatus, RectificationView };

const enc = encodeURIComponent;

export const evaluationsApi = {
  /** Rectifications of my department / hall / division, soonest due first. */
  rectifications: (status?: string) =>
    request<{ items: RectificationView[] }>('GET', '/api/v1/rectifications', { query: { status } }),
  callBack: (id: string, summary: string, idempotencyKey: string) =>
    request<RectificationView>('POST', `/api/v1/rectifications/${enc(id)}/call-back`, {
      body: { summary },
      idempotencyKey,
    }),
  outcome: (id: string, outcome: string, idempotencyKey: string) =>
    request<RectificationView>('POST', `/api/v1/rectifications/${enc(id)}/outcome`, {
      body: { outcome },
      idempotencyKey,
    }),
  appeal: (evaluationId: string, ground: 'malicious' | 'mistaken', reason: string, idempotencyKey: string) =>
    request<AppealView>('POST', `/api/v1/evaluations/${enc(evaluationId)}/appeal`, {
      body: { ground, reason },
      idempotencyKey,
    }),
  appeals: (status: 'pending' | 'upheld' | 'rejected' | 'all' = 'pending') =>
    request<{ items: AppealView[] }>('GET', '/api/v1/evaluation-appeals', { query: { status } }),
  decide: (appealId: string, decision: 'uphold' | 'reject', reason: string, idempotencyKey: string) =>
    request<AppealView>('POST', `/api/v1/evaluation-appeals/${enc(appealId)}/decision`, {
      body: { decision, reason },
      idempotencyKey,
    }),
  /** The tablet: the case by number (received at my hall), whether it can be rated here. */
  ratingStatus: (number: string) =>
    request<RatingStatus>('GET', `/api/v1/evaluations/rating-status/${enc(number)}`),
  /** The tablet: the applicant's rating, channel hall_tablet. */
  rateAtTablet: (caseNumber: string, level: number, comment: string, idempotencyKey: string) =>
    request<{ id: string; rectificationId: string | null }>('POST', '/api/v1/evaluations', {
      body: { caseNumber, channel: 'hall_tablet', level, ...(comment ? { comment } : {}) },
      idempotencyKey,
    }),
};

/**
 * The staff feedback channel (一线反馈) part of the staff API client: report a problem, my reports, the
 * triage queue, one report, triage, comment, close. Shapes follow docs/openapi.json (`FeedbackReport`,
 * `FeedbackReportDetail`); errors are {@link ApiError}s (400s name the field).
 */
import type {
  FeedbackCategory,
  FeedbackOwnerKind,
  FeedbackPriority,
  FeedbackStatus,
  FeedbackView,
  Named,
} from '../../../domain/feedback.ts';
import { newIdempotencyKey, request } from './http.ts';

export type { Named };
/** A report as the API shows it (src/domain/feedback.ts, the server's own type). */
export type FeedbackReport = FeedbackView;

export interface FeedbackDetail extends FeedbackReport {
  comments: { seq: number; author: Named; text: string; createdAt: string }[];
}

export interface FeedbackPage {
  items: FeedbackReport[];
  /** pass as `before` for the next page */
  next: number | null;
}

export interface FeedbackFilter {
  status?: FeedbackStatus | undefined;
  category?: FeedbackCategory | undefined;
  before?: number | undefined;
  limit?: number | undefined;
}

const enc = encodeURIComponent;

export const feedbackApi = {
  /** Files a report; pass the same `idempotencyKey` when retrying the same submission. */
  report(
    body: {
      category: FeedbackCategory;
      summary: string;
      details: string;
      screen: string;
      caseNumber?: string | null;
    },
    idempotencyKey: string = newIdempotencyKey(),
  ): Promise<FeedbackReport> {
    return request('POST', '/api/v1/feedback', { body, idempotencyKey });
  },
  mine(filter: FeedbackFilter = {}): Promise<FeedbackPage> {
    return request('GET', '/api/v1/feedback/mine', { query: { ...filter } });
  },
  queue(filter: FeedbackFilter = {}): Promise<FeedbackPage> {
    return request('GET', '/api/v1/feedback', { query: { ...filter } });
  },
  get(id: string): Promise<FeedbackDetail> {
    return request('GET', `/api/v1/feedback/${enc(id)}`);
  },
  triage(
    id: string,
    body: {
      owner: { kind: FeedbackOwnerKind; id: string };
      priority: FeedbackPriority;
      status: 'triaged' | 'in_progress';
      note?: string;
    },
    idempotencyKey: string = newIdempotencyKey(),
  ): Promise<FeedbackDetail> {
    return request('POST', `/api/v1/feedback/${enc(id)}/triage`, { body, idempotencyKey });
  },
  /** Comments once; pass the same `idempotencyKey` when retrying the same comment. */
  comment(id: string, text: string, idempotencyKey: string = newIdempotencyKey()): Promise<FeedbackDetail> {
    return request('POST', `/api/v1/feedback/${enc(id)}/comments`, { body: { text }, idempotencyKey });
  },
  close(
    id: string,
    resolution: string,
    idempotencyKey: string = newIdempotencyKey(),
  ): Promise<FeedbackDetail> {
    return request('POST', `/api/v1/feedback/${enc(id)}/close`, { body: { resolution }, idempotencyKey });
  },
};

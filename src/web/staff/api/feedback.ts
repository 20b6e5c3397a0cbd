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
} from '../../../domain/feedback.ts';
import { newIdempotencyKey, request } from './http.ts';

export interface Named {
  id: string;
  name: string | null;
}

export interface FeedbackReport {
  id: string;
  /** FK + six digits */
  number: string;
  category: FeedbackCategory;
  summary: string;
  details: string;
  screen: string;
  caseNumber: string | null;
  reporter: Named;
  hallCode: string | null;
  departmentId: string | null;
  divisionCode: string;
  status: FeedbackStatus;
  priority: FeedbackPriority | null;
  owner: (Named & { kind: FeedbackOwnerKind }) | null;
  resolution: string | null;
  commentCount: number;
  version: number;
  createdAt: string;
  updatedAt: string;
  triagedAt: string | null;
  closedAt: string | null;
  mayTriage: boolean;
}

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

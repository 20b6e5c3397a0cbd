import type { EvaluationChannel } from '../../../domain/evaluation.ts';
import type { Db } from '../../db/index.ts';
import type { Principal } from '../identity/principal.ts';

/** A rating as given (好差评). `token`: the one in the notification link or QR code (rating without signing in). */
export interface SubmitEvaluationInput {
  caseNumber: string;
  channel: EvaluationChannel;
  /** 1 非常满意 … 5 非常不满意 */
  level: number;
  comment?: string;
  token?: string;
}

/**
 * 好差评: ratings per service event and channel; bad reviews open a rectification (整改) with a call-back
 * (回访) and a follow-up rating; appeals (申诉) decided by a reviewer (复核). Outbox: `evaluation.*`,
 * `rectification.*`. (Skeleton: the evaluations feature fills it in.)
 */
export class EvaluationsService {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** The token of a case's rating link (`/rate/<number>?t=<token>`), sent in the decision/delivery message. */
  ratingToken(_caseNumber: string): string {
    throw new Error('not implemented yet');
  }

  /** Records a rating; a bad review (level 4–5) opens its rectification in the same transaction. */
  async submit(
    _input: SubmitEvaluationInput,
    _ctx: { principal: Principal | null; idempotencyKey?: string },
  ): Promise<{ id: string; rectificationId: string | null }> {
    throw new Error('not implemented yet');
  }
}

import type { Db } from '../../db/index.ts';

/**
 * The staff feedback channel (一线反馈): reports from any workbench screen, triaged and tracked to
 * closure; outbox `feedback.reported` / `feedback.closed`. (Skeleton: the feedback feature fills it in.)
 */
export class FeedbackService {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }
}

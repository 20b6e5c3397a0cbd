import type { Db } from '../../db/index.ts';
import type { OutboxHandler } from '../outbox/service.ts';

/**
 * Early warnings (预警): rules over the KPI rollups, hall statuses and reviews raise de-duplicated alerts
 * to the admins whose scope covers them. (Skeleton: the warnings feature fills it in.)
 */
export class WarningsService {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Outbox handler (`hall.status_changed`, `evaluation.submitted`, …). */
  readonly handler: OutboxHandler = async () => {};

  /** Evaluates the periodic rules once (the jobs loop calls it); @returns alerts raised or updated. */
  async evaluate(): Promise<number> {
    return 0;
  }
}

import type { KpiDaily } from '../../../domain/kpi.ts';
import type { Db } from '../../db/index.ts';
import type { OutboxHandler } from '../outbox/service.ts';

/** A place the KPIs are asked for: a division (province, prefecture, county, township) or one hall. */
export type KpiScope = { divisionCode: string } | { hallCode: string };

/**
 * 循数治理: the KPIs of docs/metrics.md, kept as rollups current from the outbox (`case.*`,
 * `evaluation.*`, `feedback.*`, `hall.status_changed`); dashboards read rollups, never scan cases.
 * (Skeleton: the kpi feature fills it in.)
 */
export class KpiService {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Outbox handler: folds each event into the rollups in the dispatch transaction. */
  readonly handler: OutboxHandler = async () => {};

  /** The scope's KPIs per day, `from`…`to` inclusive (YYYY-MM-DD, Asia/Shanghai). */
  async daily(_scope: KpiScope, _from: string, _to: string): Promise<KpiDaily[]> {
    return [];
  }
}

import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/index.ts';
import { toInt } from '../../db/sql.ts';
import { simulationRuns } from './schema.ts';

/** The only SQL of the simulation ledger. */
export class SimulationRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insertRun(row: { seed: string; startDay: string; days: number; scale: string }): Promise<string> {
    const [r] = await this.db.insert(simulationRuns).values(row).returning({ id: simulationRuns.id });
    return r!.id;
  }

  async updateRun(id: string, set: { cases: number; finishedAt?: Date }): Promise<void> {
    await this.db.update(simulationRuns).set(set).where(eq(simulationRuns.id, id));
  }

  async runs(): Promise<{ startDay: string; days: number }[]> {
    return this.db
      .select({ startDay: simulationRuns.startDay, days: simulationRuns.days })
      .from(simulationRuns);
  }

  async totals(): Promise<{ runs: number; cases: number }> {
    const [r] = await this.db
      .select({
        runs: sql<number>`count(*)`.mapWith(toInt),
        cases: sql<number>`coalesce(sum(${simulationRuns.cases}), 0)`.mapWith(toInt),
      })
      .from(simulationRuns);
    return { runs: r?.runs ?? 0, cases: r?.cases ?? 0 };
  }
}

import type { Db } from '../../db/index.ts';
import { SimulationRepository } from './repository.ts';

/**
 * The ledger of `tongban simulate` runs (src/server/simulation): each run is recorded with its seed, days
 * and scale and the number of cases it filed, so that a database holding real (non-simulated) cases can
 * be recognised — the simulation refuses to mix its demo data into it.
 */
export class SimulationService {
  private readonly repo: SimulationRepository;
  constructor(db: Db) {
    this.repo = new SimulationRepository(db);
  }

  /** Records the start of a run. @returns its id. */
  startRun(run: { seed: string; startDay: string; days: number; scale: number }): Promise<string> {
    return this.repo.insertRun({ ...run, scale: String(run.scale) });
  }

  /** Updates the number of cases a run filed so far; `finished` stamps its end. */
  progress(id: string, cases: number, finished?: Date): Promise<void> {
    return this.repo.updateRun(id, { cases, ...(finished ? { finishedAt: finished } : {}) });
  }

  /**
   * The simulated time of every run: from its first day's midnight to the midnight after its last day
   * (Asia/Shanghai, UTC+8 without daylight saving). A case created inside one was filed by a run — also by
   * one interrupted before it recorded its count.
   */
  async windows(): Promise<{ from: Date; to: Date }[]> {
    return (await this.repo.runs()).map((r) => {
      const from = new Date(`${r.startDay}T00:00:00+08:00`);
      return { from, to: new Date(from.getTime() + r.days * 86_400_000) };
    });
  }

  /** Runs recorded and the cases they filed in total. */
  totals(): Promise<{ runs: number; cases: number }> {
    return this.repo.totals();
  }
}

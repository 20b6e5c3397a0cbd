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

  /** Runs recorded and the cases they filed in total. */
  totals(): Promise<{ runs: number; cases: number }> {
    return this.repo.totals();
  }
}

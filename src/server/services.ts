import type { Database } from './db/index.ts';
import { CalendarService } from './modules/calendar/service.ts';
import { DepartmentsService } from './modules/departments/service.ts';
import { HallsService } from './modules/halls/service.ts';
import { RegionsService } from './modules/regions/service.ts';

/** Every module's public face, built once per process (composition root helper). */
export interface Services {
  calendar: CalendarService;
  regions: RegionsService;
  departments: DepartmentsService;
  halls: HallsService;
}

export function createServices(database: Database): Services {
  const { db } = database;
  const regions = new RegionsService(db);
  const departments = new DepartmentsService(db);
  const halls = new HallsService(db);
  const calendar = new CalendarService(db);
  return { calendar, regions, departments, halls };
}

/** What the database holds, for the start-up summary and `/health`. */
export interface LoadSummary {
  divisions: Record<'province' | 'prefecture' | 'county' | 'township' | 'village', number>;
  halls: Record<'province' | 'prefecture' | 'county' | 'township' | 'village', number>;
  departments: number;
}

export async function summarize(services: Services): Promise<LoadSummary> {
  const [divisions, halls, departments] = await Promise.all([
    services.regions.countByLevel(),
    services.halls.countByLevel(),
    services.departments.count(),
  ]);
  return { divisions, halls, departments };
}

/**
 * Loads the shipped reference data — divisions, departments, halls — in ONE transaction, so a crash
 * leaves the database as before. Idempotent (existing rows are kept). Returns what was in the data.
 */
export async function seedReferenceData(
  database: Database,
  services: Services,
): Promise<{ divisions: number; departments: number; halls: number }> {
  return database.db.transaction(async (tx) => {
    const all = await services.regions.seed(tx);
    const departments = await services.departments.seed(tx, all);
    const halls = await services.halls.seed(tx, all);
    return { divisions: all.length, departments, halls };
  });
}

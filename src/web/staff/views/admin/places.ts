/**
 * The places an administrator works with, fetched from the public reference routes: the halls and
 * departments inside a division (GET /api/v1/halls?division=, /api/v1/departments?division=) and its
 * sub-divisions (GET /api/v1/divisions?parent=). Each answer is kept for the page's life.
 */

import { adminApi, type HallDetail } from '../../api/admin.ts';
import { api } from '../../api/client.ts';
import type { Department, Division } from '../../api/types.ts';

const cache = new Map<string, Promise<unknown>>();

function once<T>(key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key) as Promise<T> | undefined;
  if (!p) {
    p = load();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Halls located in the division and below (at most 200, by code). */
export const hallsIn = (division: string): Promise<HallDetail[]> =>
  once(`h:${division}`, async () => (await adminApi.hallsOf(division)).items);

/** One hall (for hall-scoped administrators). */
export const hallByCode = (code: string): Promise<HallDetail> =>
  once(`hc:${code}`, () => adminApi.hall(code));

/** Departments of exactly this division. */
export const departmentsIn = (division: string): Promise<Department[]> =>
  once(`d:${division}`, async () => (await api.departments(division)).items);

/** The division itself, then its direct sub-divisions. */
export const divisionAndChildren = (code: string): Promise<Division[]> =>
  once(`v:${code}`, async () => {
    const [self, children] = await Promise.all([api.division(code), api.divisions(code)]);
    return [self, ...children.items];
  });

/** Forgets a cached hall after it changed. */
export function forgetHalls(): void {
  for (const k of [...cache.keys()]) if (k.startsWith('h')) cache.delete(k);
}

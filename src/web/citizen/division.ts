/**
 * The resident's chosen division (prefecture → county), remembered in localStorage.
 * Default: 贵阳市南明区 (520102).
 */
import { reactive, watch } from 'vue';

export interface ChosenDivision {
  /** county code (6 digits), or the prefecture code when the prefecture itself is chosen */
  code: string;
  name: string;
  prefectureCode: string;
  prefectureName: string;
}

export const DEFAULT_DIVISION: ChosenDivision = {
  code: '520102',
  name: '南明区',
  prefectureCode: '5201',
  prefectureName: '贵阳市',
};

const STORAGE_KEY = 'tongban.division';

function load(): ChosenDivision {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (raw) {
      const v = JSON.parse(raw) as Partial<ChosenDivision>;
      if (
        typeof v.code === 'string' &&
        /^\d{4}(\d{2})?$/.test(v.code) &&
        typeof v.name === 'string' &&
        typeof v.prefectureCode === 'string' &&
        typeof v.prefectureName === 'string'
      ) {
        return v as ChosenDivision;
      }
    }
  } catch {
    // storage disabled or corrupt: use the default
  }
  return { ...DEFAULT_DIVISION };
}

export const division = reactive<ChosenDivision>(load());

watch(division, (d) => {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(d));
  } catch {
    // private mode / quota: the choice lasts for this visit only
  }
});

export function chooseDivision(d: ChosenDivision): void {
  Object.assign(division, d);
}

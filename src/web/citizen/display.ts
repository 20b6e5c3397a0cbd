/**
 * Display preferences, remembered in localStorage: 长辈版 (elderly mode, after the MIIT 适老化 rules —
 * 工信部《移动互联网应用（APP）适老化通用设计规范》) and the text size (标准 / 大 / 特大).
 *
 * They are applied to `<html>` as `data-elderly` and `data-text-size`; modes.css turns those into the
 * root font size (every font size in the app is in rem, so all text scales), larger targets, higher
 * contrast and wider spacing. Views read {@link display} for layout changes (the simplified home);
 * other features should show no pop-ups, toasts or dialogs that are not essential while
 * `display.elderly` is on.
 */
import { reactive, watch } from 'vue';

export type TextSize = 'standard' | 'large' | 'xlarge';
export const TEXT_SIZES: readonly TextSize[] = ['standard', 'large', 'xlarge'];

export interface DisplayPreferences {
  /** 长辈版 on */
  elderly: boolean;
  textSize: TextSize;
}

const STORAGE_KEY = 'tongban.display';

function load(): DisplayPreferences {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (raw) {
      const v = JSON.parse(raw) as Partial<DisplayPreferences>;
      return {
        elderly: v.elderly === true,
        textSize: TEXT_SIZES.includes(v.textSize as TextSize) ? (v.textSize as TextSize) : 'standard',
      };
    }
  } catch {
    // storage disabled or corrupt: defaults
  }
  return { elderly: false, textSize: 'standard' };
}

export const display = reactive<DisplayPreferences>(load());

function apply(d: DisplayPreferences) {
  const root = document.documentElement;
  if (d.elderly) root.dataset.elderly = '';
  else delete root.dataset.elderly;
  root.dataset.textSize = d.textSize;
}

apply(display);
watch(display, (d) => {
  apply(d);
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(d));
  } catch {
    // private mode / quota: the choice lasts for this visit only
  }
});

/** Turns 长辈版 on or off (remembered). */
export function setElderly(on: boolean): void {
  display.elderly = on;
}

/** Chooses the text size (remembered); in 长辈版 each size is larger still. */
export function setTextSize(size: TextSize): void {
  display.textSize = size;
}

/**
 * Keyboard shortcuts of the workbench. A view registers its own while mounted (`useShortcut`); the
 * help dialog (`?`) lists every shortcut in force. Keys are ignored while typing in a field and while
 * a dialog is open (except Escape, which Element Plus handles), so a shortcut never fires by accident.
 */
import { onBeforeUnmount, onMounted, reactive } from 'vue';

export interface Shortcut {
  key: string;
  /** i18n key of what it does */
  label: string;
  run: () => void;
}

/** The shortcuts in force, newest last (the help dialog reads this). */
export const shortcuts = reactive<Shortcut[]>([]);

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

function dialogOpen(): boolean {
  return document.querySelector('.el-overlay:not([style*="display: none"]) [role="dialog"]') !== null;
}

/** Installs the one keydown listener (App.vue). */
export function installShortcuts(): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || dialogOpen()) return;
    const s = [...shortcuts].reverse().find((x) => x.key === e.key);
    if (!s) return;
    e.preventDefault();
    s.run();
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}

/** Registers shortcuts for the lifetime of the calling component. */
export function useShortcut(...list: Shortcut[]): void {
  onMounted(() => shortcuts.push(...list));
  onBeforeUnmount(() => {
    for (const s of list) {
      const i = shortcuts.indexOf(s);
      if (i >= 0) shortcuts.splice(i, 1);
      else {
        const j = shortcuts.findIndex((x) => x.key === s.key && x.label === s.label);
        if (j >= 0) shortcuts.splice(j, 1);
      }
    }
  });
}

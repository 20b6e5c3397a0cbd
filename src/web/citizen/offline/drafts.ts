/**
 * Placeholder of the drafts store (issue 6, offline core): the API the forms call, kept in memory for
 * this page's life only. The offline core's version (IndexedDB, saved as typed) replaces it.
 */
import { type Ref, ref, toRaw, watch } from 'vue';

const memory = new Map<string, { value: unknown; savedAt: Date }>();

/** A copy of plain data (objects, arrays; Blobs are immutable and shared) that shares no object with `v`. */
function copy<T>(v: T): T {
  return deepRaw(v);
}

/**
 * A draft under `key` (e.g. `apply:<item code>`): `value` starts as the saved draft or `initial`; every
 * change is saved (`savedAt` says when); `clear()` forgets it and puts `initial` back. Values must be
 * structured-cloneable (plain data and Blobs).
 */
export function useDraft<T>(
  key: string,
  initial: T,
): { value: Ref<T>; savedAt: Ref<Date | null>; clear(): void } {
  const saved = memory.get(key);
  const value = ref(saved ? copy(saved.value as T) : copy(initial)) as Ref<T>;
  const savedAt = ref<Date | null>(saved?.savedAt ?? null);
  let fresh: unknown = null;
  watch(
    value,
    (v) => {
      if (toRaw(v) === fresh) return;
      const at = new Date();
      memory.set(key, { value: deepRaw(v), savedAt: at });
      savedAt.value = at;
    },
    { deep: true },
  );
  return {
    value,
    savedAt,
    clear() {
      memory.delete(key);
      fresh = copy(initial);
      value.value = fresh as T;
      savedAt.value = null;
    },
  };
}

/** A deep copy of `v` with every nested reactive proxy unwrapped (Blobs kept as they are). */
function deepRaw<T>(v: T): T {
  const raw = toRaw(v) as unknown;
  if (raw instanceof Blob || raw === null || typeof raw !== 'object') return raw as T;
  if (Array.isArray(raw)) return raw.map((x) => deepRaw(x)) as T;
  if (raw instanceof Date) return new Date(raw) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(raw)) out[k] = deepRaw(x);
  return out as T;
}

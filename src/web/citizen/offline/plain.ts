/**
 * Plain copies of values for IndexedDB: Vue's reactive proxies cannot be stored (structured clone throws
 * DataCloneError on a Proxy), and a JSON round trip would lose Blobs, Files and Dates.
 */
import { isProxy, toRaw } from 'vue';

/**
 * A deep copy of `value` without Vue proxies: plain objects and arrays are copied, Blob / File / Date /
 * ArrayBuffer / typed arrays are kept as they are (structured clone copies them), functions and
 * `undefined` object members are dropped (neither is storable nor meaningful in a form).
 */
export function plain<T>(value: T): T {
  return copy(value, new Map()) as T;
}

function copy(value: unknown, seen: Map<object, unknown>): unknown {
  const v = isProxy(value) ? toRaw(value) : value;
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? undefined : v;
  if (v instanceof Blob || v instanceof Date || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return v;
  const known = seen.get(v);
  if (known !== undefined) return known;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const item of v) out.push(copy(item, seen));
    return out;
  }
  if (v instanceof Map) {
    const out = new Map();
    seen.set(v, out);
    for (const [k, item] of v) out.set(k, copy(item, seen));
    return out;
  }
  if (v instanceof Set) {
    const out = new Set();
    seen.set(v, out);
    for (const item of v) out.add(copy(item, seen));
    return out;
  }
  const out: Record<string, unknown> = {};
  seen.set(v, out);
  for (const [k, item] of Object.entries(v)) {
    const c = copy(item, seen);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/**
 * Small shared helpers for benchmarks: a seeded PRNG, percentiles, memory with an optional GC.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export { seededRandom } from '../../src/domain/random.ts';

/** Fisher–Yates shuffle in place with the given random source; returns the array. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Nearest-rank percentile (p in 0–100) of samples (any order); NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

let gcFn: (() => void) | undefined;

/**
 * Run a full garbage collection: uses `global.gc` when node runs with --expose-gc, else enables it at
 * run time through V8 flags (works on Node ≥ 18). Returns false when neither is possible.
 */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      } catch {
        return false;
      }
    }
  }
  gcFn();
  gcFn();
  return true;
}

/** RSS and V8 heap used, in MB (10^6 bytes), rounded to 0.1. */
export function memoryMb(): { rss: number; heap: number } {
  const m = process.memoryUsage();
  return { rss: round(m.rss / 1e6, 1), heap: round(m.heapUsed / 1e6, 1) };
}

/** Round to the given number of decimals. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/**
 * Deterministic pseudo-random numbers (mulberry32) for sample data and benchmarks: the same seed gives
 * the same sequence on every machine. Not for anything secret (use node:crypto for that).
 * @param seed a 32-bit integer, or a string hashed to one (FNV-1a).
 * @returns a function giving floats in [0, 1).
 */
export function seededRandom(seed: number | string): () => number {
  let a = typeof seed === 'number' ? seed >>> 0 : fnv1a(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

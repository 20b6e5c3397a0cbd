/**
 * A compact set of small non-negative integers (dense division ids assigned by the search index).
 *
 * Home-made because FlexSearch has nothing for it: the index keeps one of these per distinct
 * (item, name, industry, service objects) variant instead of one index entry per implementation record,
 * which is what makes 715,000 records cheap (671 items × ~1,066 divisions collapse to a few thousand
 * variants). Small sets (≤ 32 members, e.g. a county's local name variant) are a plain array; larger
 * ones switch to a bitmap (1 bit per division id: 1,066 divisions → 136 bytes; all 19,572 Guizhou
 * divisions → 2.4 KB).
 */
const SMALL = 32;

export class DivisionSet {
  #small: number[] | undefined = [];
  #bits: Uint32Array | undefined;
  #size = 0;

  /** Number of members. */
  get size(): number {
    return this.#size;
  }

  /** Add id (integer ≥ 0). Returns true when it was not there yet. */
  add(id: number): boolean {
    if (this.#small !== undefined) {
      if (this.#small.includes(id)) return false;
      if (this.#small.length < SMALL) {
        this.#small.push(id);
        this.#size++;
        return true;
      }
      const members = this.#small;
      this.#small = undefined;
      this.#bits = new Uint32Array((Math.max(...members, id) >>> 5) + 1);
      for (const m of members) this.#set(m);
    }
    if (this.#has(id)) return false;
    this.#set(id);
    this.#size++;
    return true;
  }

  /** Whether id is a member. */
  has(id: number): boolean {
    return this.#small !== undefined ? this.#small.includes(id) : this.#has(id);
  }

  /** Whether any of ids is a member (ids: usually ≤ 5 ancestor ids). */
  hasAny(ids: readonly number[]): boolean {
    for (const id of ids) if (this.has(id)) return true;
    return false;
  }

  #has(id: number): boolean {
    const word = this.#bits![id >>> 5];
    return word !== undefined && (word & (1 << (id & 31))) !== 0;
  }

  #set(id: number): void {
    const index = id >>> 5;
    let bits = this.#bits!;
    if (index >= bits.length) {
      const grown = new Uint32Array(Math.max(index + 1, bits.length * 2));
      grown.set(bits);
      this.#bits = bits = grown;
    }
    bits[index] = (bits[index] ?? 0) | (1 << (id & 31));
  }
}

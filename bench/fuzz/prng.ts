/**
 * A seeded pseudo-random generator, so that a seed gives the same cases on every run and machine:
 * Math.random cannot be seeded, and a fuzz finding is only useful if it can be replayed. Marsaglia's
 * xorshift32 (Journal of Statistical Software 8(14), 2003), its state first scrambled so that
 * neighbouring seeds (1, 2, …) start far apart. Good enough to pick cases; not for anything secret.
 */
export class Random {
  private state: number;

  constructor(...seeds: number[]) {
    let s = 0x9e3779b9;
    for (const seed of seeds) s = scramble(s ^ (seed >>> 0) ^ Math.floor(seed / 2 ** 32));
    this.state = s === 0 ? 0x6d2b79f5 : s;
  }

  /** A 32-bit unsigned integer. */
  uint32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.uint32() / 2 ** 32) * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.uint32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
}

/** A 32-bit integer hash spreading every input bit over the output (multiply–xorshift rounds with Chris Wellons' "lowbias32" constants). */
function scramble(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Exponential back-off with full jitter: attempt n waits a uniform random time in
 * [0, min(max, min·2ⁿ)). Full jitter spreads the reconnects of many devices after a server restart.
 */
export class Backoff {
  private attempt = 0;
  readonly minMs: number;
  readonly maxMs: number;

  constructor(minMs = 500, maxMs = 30_000, private readonly random: () => number = Math.random) {
    this.minMs = Math.max(1, minMs);
    this.maxMs = Math.max(this.minMs, maxMs);
  }

  /** The delay before the next attempt; each call doubles the ceiling up to `maxMs`. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    // Stop counting once the ceiling is reached so 2ⁿ never overflows.
    if (ceiling < this.maxMs) this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}

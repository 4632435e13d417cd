/**
 * Paces work to `perSecond` units: `take(n)` resolves when n more units fit. Callers take whole
 * batches, so a fan-out page waits once rather than once per device.
 */
export class RateLimiter {
  private nextFree = 0;

  constructor(private perSecond: number) {}

  async take(n: number): Promise<void> {
    const now = performance.now();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (n / this.perSecond) * 1000;
    const wait = start - now;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

import { RateLimiter } from '../util/rate-limiter.js';
import type { CallbackConfig } from './settings.js';

/** Exponential back-off with jitter: `first` doubling per failure up to `max`, each delay drawn from its upper half (whole ms: it is stored). */
export function backoff(failures: number, first: number, max: number): number {
  const d = Math.min(max, first * 2 ** Math.max(0, failures - 1));
  return Math.round(d * (0.5 + Math.random() * 0.5));
}

/**
 * What one process knows of one app's callbacks: rows in flight, whether rows are due, and a
 * circuit on its endpoint. After a failure the whole app waits out its back-off and then sends one
 * request at a time until one succeeds, so a dead endpoint sees one probe per back-off step rather
 * than every waiting row; other apps are never held by it.
 */
export class Lane {
  inFlight = 0;
  /** Consecutive failed requests. */
  failures = 0;
  blockedUntil = 0;
  /** Callbacks are off: look again at this time. */
  pausedUntil = 0;
  /** When the earliest known row is due; Infinity = none known until the next look at the store. */
  due = Infinity;
  private configAt = 0;
  private limiter?: RateLimiter;
  private rate = 0;

  constructor(readonly appId: number) {}

  room(perApp: number): number {
    return (this.failures > 0 ? 1 : perApp) - this.inFlight;
  }

  /** A changed config (another URL, back on) ends the back-off: it was the old endpoint's. */
  useConfig(config: CallbackConfig): void {
    if (config.updatedAt !== this.configAt) {
      this.configAt = config.updatedAt;
      this.failures = 0;
      this.blockedUntil = 0;
    }
    this.pausedUntil = 0;
  }

  pacer(perSecond: number): RateLimiter {
    if (!this.limiter || perSecond !== this.rate) {
      this.limiter = new RateLimiter(perSecond);
      this.rate = perSecond;
    }
    return this.limiter;
  }

  succeeded(): void {
    this.failures = 0;
    this.blockedUntil = 0;
  }

  failed(now: number, first: number, max: number): void {
    this.failures++;
    this.blockedUntil = now + backoff(this.failures, first, max);
  }

  /** When this lane next has something to do, if it has room. */
  nextAt(perApp: number): number {
    if (this.due === Infinity || this.room(perApp) <= 0) return Infinity;
    return Math.max(this.due, this.blockedUntil, this.pausedUntil);
  }

  idle(): boolean {
    return this.inFlight === 0 && this.failures === 0 && this.due === Infinity;
  }
}

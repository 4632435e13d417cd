/** What a limiter says about one key. */
export interface LimitVerdict {
  ok: boolean;
  /** When `ok` is false: how long until one more attempt fits. */
  retryAfterMs: number;
}

/**
 * Attempts counted per key (a source address, an app). In one process it is the token bucket
 * below; cluster mode can back the same interface with Redis (one script per call) so that a bound
 * holds across processes, which is why the methods return promises.
 *
 * `@fastify/rate-limit` was not used: it counts every request in an `onRequest` hook, before the
 * outcome is known, so it cannot count only failed authentications, and the gateway's `auth`
 * frame is not an HTTP request at all.
 */
export interface AttemptLimiter {
  /** Counts one attempt against `key`; refused (and not counted) when it has none left. */
  take(key: string): Promise<LimitVerdict>;
  /** Whether an attempt would fit now, counting nothing; `untouched` when no attempt is on record. */
  peek(key: string): Promise<LimitVerdict & { untouched: boolean }>;
}

/** A limiter that never refuses (a bound configured as 0). */
export const unlimited: AttemptLimiter = {
  take: async () => ({ ok: true, retryAfterMs: 0 }),
  peek: async () => ({ ok: true, retryAfterMs: 0, untouched: true }),
};

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets in memory: `perMinute` attempts at once, refilled at `perMinute` a minute. A bucket
 * that has refilled is the same as none and is dropped; past `maxKeys` the least recently counted
 * key is dropped, so an attacker with endless addresses costs bounded memory.
 */
export class MemoryAttemptLimiter implements AttemptLimiter {
  private buckets = new Map<string, Bucket>();
  private perMs: number;

  constructor(private perMinute: number, private maxKeys = 100_000, private now: () => number = Date.now) {
    this.perMs = perMinute / 60_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  async take(key: string): Promise<LimitVerdict> {
    const t = this.now();
    const tokens = this.tokens(key, t);
    if (tokens < 1) return { ok: false, retryAfterMs: this.waitFor(tokens) };
    // Re-inserted so that Map order is least recently counted first.
    this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(key, { tokens: tokens - 1, at: t });
    return { ok: true, retryAfterMs: 0 };
  }

  async peek(key: string): Promise<LimitVerdict & { untouched: boolean }> {
    const tokens = this.tokens(key, this.now());
    return { ok: tokens >= 1, retryAfterMs: tokens >= 1 ? 0 : this.waitFor(tokens), untouched: tokens >= this.perMinute };
  }

  /** The key's tokens at `t`; a bucket full again is forgotten. */
  private tokens(key: string, t: number): number {
    const b = this.buckets.get(key);
    if (!b) return this.perMinute;
    const tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * this.perMs);
    if (tokens >= this.perMinute) this.buckets.delete(key);
    return tokens;
  }

  private waitFor(tokens: number): number {
    return Math.ceil((1 - tokens) / this.perMs);
  }
}

/** A limiter of `perMinute` attempts a minute per key; 0 means no bound. */
export function attemptLimiter(perMinute: number): AttemptLimiter {
  return perMinute > 0 ? new MemoryAttemptLimiter(perMinute) : unlimited;
}

import type { AttemptLimiter } from './attempt-limiter.js';
import { addressKey } from './source-address.js';

/** Why an attempt is refused before its credentials are checked. */
export interface Refusal {
  retryAfterMs: number;
  /** `address`: this address failed too often; `app`: the app is failing from many addresses. */
  scope: 'address' | 'app';
}

/**
 * Counts failed authentications per source address and per app, and refuses attempts past the
 * bound before checking them, so that guessing is slow and cheap to answer:
 * - an address that failed `perAddress` times is refused until its bucket refills;
 * - while an app has failed `perApp` times from all addresses together, every address that has a
 *   failure on record is refused too (so each attacking address gets one try, not `perAddress`).
 * An address with no failure on record is never refused: a correct caller is not slowed by
 * failures from other addresses.
 */
export class FailureGuard {
  constructor(
    private perAddress: AttemptLimiter,
    private perApp: AttemptLimiter,
    private onRefused: () => void = () => {},
  ) {}

  /** Null when `address` may try; `appId` is the app it claims, when known. */
  async refusal(address: string, appId?: number): Promise<Refusal | null> {
    const own = await this.perAddress.peek(addressKey(address));
    let refused: Refusal | null = null;
    if (!own.ok) refused = { retryAfterMs: own.retryAfterMs, scope: 'address' };
    else if (!own.untouched && appId !== undefined) {
      const app = await this.perApp.peek(String(appId));
      if (!app.ok) refused = { retryAfterMs: app.retryAfterMs, scope: 'app' };
    }
    if (refused) this.onRefused();
    return refused;
  }

  /** Counts one failed attempt from `address` (against `appId` too when the app exists). */
  async failed(address: string, appId?: number): Promise<void> {
    await this.perAddress.take(addressKey(address));
    if (appId !== undefined) await this.perApp.take(String(appId));
  }
}

/** A bound on some request (registrations) per source address and per app. */
export class RequestLimit {
  constructor(
    private perAddress: AttemptLimiter,
    private perApp: AttemptLimiter,
    private onRefused: () => void = () => {},
  ) {}

  /** Counts one request; a refusal when the address or the app is over its bound. */
  async take(address: string, appId: number): Promise<Refusal | null> {
    const own = await this.perAddress.take(addressKey(address));
    let refused: Refusal | null = null;
    if (!own.ok) refused = { retryAfterMs: own.retryAfterMs, scope: 'address' };
    else {
      const app = await this.perApp.take(String(appId));
      if (!app.ok) refused = { retryAfterMs: app.retryAfterMs, scope: 'app' };
    }
    if (refused) this.onRefused();
    return refused;
  }
}

/** "retry in N s" for a refusal, whole seconds rounded up. */
export function retryAfterSeconds(refusal: Refusal): number {
  return Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
}

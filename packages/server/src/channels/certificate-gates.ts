import type { CertificateRow } from '../store/certificates.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { Semaphore } from '../util/semaphore.js';

export interface GateLimits {
  /** Vendor requests (adapter calls) in flight at once. */
  concurrency: number;
  /** Devices per second; 0 = unpaced. */
  perSecond: number;
}

/** Why a certificate is not being used: its vendor said its quota is spent. */
export interface Pause {
  until: number;
  code: number;
  info: string;
}

/**
 * What stands between Herald and one certificate's vendor: a cap on requests in flight, a pace in
 * devices per second, and a pause after the vendor reported its quota spent. Per process: a
 * cluster of N processes may drive a certificate N times as hard, which the defaults allow for.
 */
export class Gate {
  pause: Pause | undefined;
  private slots: Semaphore;
  private pace: RateLimiter | undefined;

  constructor(readonly limits: GateLimits) {
    this.slots = new Semaphore(limits.concurrency);
    this.pace = limits.perSecond > 0 ? new RateLimiter(limits.perSecond) : undefined;
  }

  paused(now = Date.now()): Pause | undefined {
    if (this.pause && this.pause.until <= now) this.pause = undefined;
    return this.pause;
  }

  pauseFor(ms: number, code: number, info: string): void {
    const until = Date.now() + ms;
    if (!this.pause || this.pause.until < until) this.pause = { until, code, info };
  }

  /** Runs one vendor call for `devices` devices within the limits. */
  async run<T>(devices: number, call: () => Promise<T>): Promise<T> {
    return this.slots.run(async () => {
      await this.pace?.take(devices);
      return call();
    });
  }
}

/** One gate per certificate, rebuilt when the certificate changes. */
export class CertificateGates {
  private gates = new Map<string, { updatedAt: number; gate: Gate }>();

  constructor(private defaults: GateLimits) {}

  of(appId: number, cert: CertificateRow, config: { limits?: Partial<GateLimits> }): Gate {
    const key = `${appId}:${cert.cert_id}`;
    const hit = this.gates.get(key);
    if (hit && hit.updatedAt === Number(cert.updated_at)) return hit.gate;
    const gate = new Gate({ concurrency: config.limits?.concurrency ?? this.defaults.concurrency, perSecond: config.limits?.perSecond ?? this.defaults.perSecond });
    // a changed certificate (new credentials) starts unpaused
    this.gates.set(key, { updatedAt: Number(cert.updated_at), gate });
    return gate;
  }
}

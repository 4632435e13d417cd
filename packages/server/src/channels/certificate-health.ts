import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { certificates } from '../store/index.js';
import type { CertificateRow } from '../store/certificates.js';

/** Why a certificate is not used: its vendor refused the certificate itself. */
export interface Stop {
  since: number;
  code: number;
  reason: string;
}

/** Whether a batch may go through a certificate now. */
export type Verdict = { send: true; probe: boolean } | { send: false; stop: Stop };

export interface CertificateHealthOptions {
  /** A stopped certificate is tried again with one batch this long after it was stopped (ms). */
  probeAfterMs: number;
  /** A certificate was stopped here (for logs and metrics). */
  onStop?(appId: number, cert: CertificateRow, stop: Stop): void;
}

/** What this process knows of a certificate beyond its stored row, until the row is read again. */
interface Known {
  updatedAt: number;
  stop: Stop | null;
  /** When this process last changed `stop` itself: a row read before then may not show it yet. */
  learnedAt: number;
  proven: boolean;
  probing: boolean;
}

/** Longer than the certificates' cache in VendorChannels: a row read this long after a change of ours shows it. */
const ROW_FRESH_MS = 5000;

/**
 * A circuit breaker per certificate. An answer that means the vendor refused the certificate
 * itself stops it: nothing more is sent through it (its devices are counted lost, their tokens
 * kept), because the same credentials would only be refused again, and some vendors' refusals of
 * a wrong certificate look like dead tokens. The stop is stored with the certificate, so every
 * process, `get_push_task`, `get_certificates` and `herald cert list` see it; replacing the
 * certificate clears it. Every `probeAfterMs` one batch is let through to find out whether the
 * vendor takes the credentials again (a revoked key restored, a vendor's own fault over): a send
 * taken clears the stop, another refusal renews it.
 *
 * It also remembers whether the credentials have ever worked, which decides how an answer that
 * means either "dead token" or "wrong certificate" is read (SendContext.certificateProven).
 */
export class CertificateHealth {
  private known = new Map<string, Known>();

  constructor(
    private db: Kysely<Database>,
    private opts: CertificateHealthOptions,
  ) {}

  verdict(appId: number, cert: CertificateRow, now = Date.now()): Verdict {
    const k = this.of(appId, cert);
    if (!k.stop) return { send: true, probe: false };
    if (!k.probing && now - k.stop.since >= this.opts.probeAfterMs) {
      k.probing = true;
      return { send: true, probe: true };
    }
    return { send: false, stop: k.stop };
  }

  /** True while the certificate is stopped (asking lets no probe through). */
  isStopped(appId: number, cert: CertificateRow): boolean {
    return this.of(appId, cert).stop !== null;
  }

  proven(appId: number, cert: CertificateRow): boolean {
    return this.of(appId, cert).proven;
  }

  /** The vendor refused the certificate: it is stopped (or, after a probe, stays stopped from now). */
  async refused(appId: number, cert: CertificateRow, code: number, info: string, now = Date.now()): Promise<void> {
    const k = this.of(appId, cert);
    const stop = { since: now, code, reason: info.slice(0, 500) };
    k.stop = stop;
    k.learnedAt = now;
    k.probing = false;
    await certificates.markStopped(this.db, appId, Number(cert.cert_id), Number(cert.updated_at), { at: now, code, reason: stop.reason });
    this.opts.onStop?.(appId, cert, stop);
  }

  /** The vendor took a send (or a probe got through): in use, and proven. Writes only what changed. */
  async worked(appId: number, cert: CertificateRow, now = Date.now()): Promise<void> {
    const k = this.of(appId, cert);
    k.probing = false;
    if (k.proven && !k.stop) return;
    k.proven = true;
    k.stop = null;
    k.learnedAt = now;
    await certificates.markWorking(this.db, appId, Number(cert.cert_id), Number(cert.updated_at), now);
  }

  /** A probe that ended neither way (the request failed for another reason): the next one is due after the interval. */
  inconclusive(appId: number, cert: CertificateRow, now = Date.now()): void {
    const k = this.of(appId, cert);
    if (k.stop && k.probing) k.stop = { ...k.stop, since: now };
    k.probing = false;
  }

  /**
   * The stored row, overlaid with what this process learned since it was read. A row with other
   * credentials (a newer `updated_at`) replaces what was known; another process's stop or proof
   * arrives with the next read of the row.
   */
  private of(appId: number, cert: CertificateRow, now = Date.now()): Known {
    const key = `${appId}:${cert.cert_id}`;
    const updatedAt = Number(cert.updated_at);
    const stored: Stop | null = cert.stopped_at === null ? null : { since: Number(cert.stopped_at), code: Number(cert.stop_code ?? 0), reason: cert.stop_reason ?? '' };
    let k = this.known.get(key);
    if (!k || k.updatedAt !== updatedAt) {
      k = { updatedAt, stop: stored, learnedAt: 0, proven: cert.proven_at !== null, probing: false };
      if (this.known.size > 10_000) this.known.clear();
      this.known.set(key, k);
      return k;
    }
    // a stop, a proof or a cleared stop stored by another process (or by this one, now read back)
    if (cert.proven_at !== null) k.proven = true;
    if (stored && (!k.stop || stored.since > k.stop.since)) k.stop = stored;
    else if (!stored && k.stop && !k.probing && now - k.learnedAt > ROW_FRESH_MS) k.stop = null;
    return k;
  }
}

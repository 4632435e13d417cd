import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { certificates, events, tasks } from '../store/index.js';
import type { CertificateRow } from '../store/certificates.js';
import type { LossCount } from '../store/events.js';
import { LossReason } from '../stats/loss-reasons.js';
import { Batcher } from '../util/batcher.js';
import { chunks } from '../util/chunks.js';
import { groupBy } from '../util/group-by.js';
import { pickLanguage } from '../dispatch/locale.js';
import { deviceMessage, type StoredMessage } from '../dispatch/message.js';
import type { CertVendor } from './certificates.js';
import type { OfflineBatch, OfflineChannels } from './index.js';
import type { VendorAdapter, VendorMessage, VendorResult, VendorTarget } from './vendor.js';

interface Loss {
  registrationId: string;
  userId: string | null;
  code: number;
  stage: string;
  reason: string;
}

/**
 * The offline channels: for each batch of devices without a gateway session, finds each device's
 * token and the app's certificate for its vendor, sends through that vendor's adapter, clears
 * tokens the vendor says are dead, and records every device not sent to, with its reason (-2 no
 * token, -1 no certificate, or the vendor's code). Single and batch pushes keep a loss row per
 * device; all-users and tag pushes add to their counters.
 */
export class VendorChannels implements OfflineChannels {
  private counts: Batcher<LossCount>;
  private messages = new Map<string, Promise<VendorMessage | undefined>>();
  private certs = new Map<number, { rows: Promise<CertificateRow[]>; until: number }>();

  constructor(
    private db: Kysely<Database>,
    private adapters: Partial<Record<CertVendor, VendorAdapter>>,
    onError: (err: unknown) => void,
    /** The URL a vendor posts this certificate's delivery receipts to, when Herald has a public URL. */
    private receiptUrl: (appId: number, cert: CertificateRow) => string | undefined = () => undefined,
  ) {
    this.counts = new Batcher((items) => events.addLossCounts(db, items), onError, 500);
  }

  async flush(): Promise<void> {
    await this.counts.flush();
  }

  async sendOffline(batch: OfflineBatch): Promise<void> {
    if (batch.targets.length === 0) return;
    const { appId, taskId } = batch;
    const devices = [];
    for (const part of chunks(batch.targets.map((t) => t.registrationId), 1000)) {
      devices.push(...(await this.db.selectFrom('devices').select(['registration_id', 'user_id', 'vendor', 'token', 'certificate_id', 'locale']).where('app_id', '=', appId).where('registration_id', 'in', part).execute()));
    }
    const certs = await this.certificates(appId);
    const losses: Loss[] = [];
    const lose = (d: { registration_id: string; user_id: string | null }, r: { code: number; stage: string; reason: string }) => losses.push({ registrationId: d.registration_id, userId: d.user_id, ...r });
    const sends: { cert: CertificateRow; adapter: VendorAdapter; target: VendorTarget; userId: string | null }[] = [];
    for (const d of devices) {
      if (!d.vendor || !d.token) {
        lose(d, LossReason.noToken);
        continue;
      }
      const vendor = d.vendor === 'apns-voip' ? 'apns' : d.vendor;
      const ofVendor = certs.filter((c) => c.vendor === vendor);
      // The device names its certificate; one that names none uses the app's only one for its vendor.
      const cert = d.certificate_id !== null ? ofVendor.find((c) => Number(c.cert_id) === Number(d.certificate_id)) : ofVendor.length === 1 ? ofVendor[0] : undefined;
      if (!cert) {
        lose(d, LossReason.noCertificate);
        continue;
      }
      const adapter = this.adapters[vendor as CertVendor];
      if (!adapter) {
        lose(d, LossReason.noChannel);
        continue;
      }
      sends.push({ cert, adapter, target: { registrationId: d.registration_id, token: d.token, locale: d.locale }, userId: d.user_id });
    }
    if (sends.length > 0) {
      const message = await this.message(appId, taskId);
      if (message) {
        for (const group of groupBy(sends, (s) => s.cert).values()) {
          const { cert, adapter } = group[0]!;
          const results = await adapter.send(JSON.parse(cert.config) as Record<string, unknown>, message, group.map((s) => s.target), { receiptUrl: this.receiptUrl(appId, cert) });
          await this.settle(appId, cert.vendor, group, results, losses);
        }
      }
    }
    await this.record(batch, losses);
  }

  /** Dead tokens are cleared (only if the device still has that token); vendor refusals become losses. */
  private async settle(appId: number, vendor: string, group: { target: VendorTarget; userId: string | null }[], results: VendorResult[], losses: Loss[]): Promise<void> {
    const byId = new Map(group.map((s) => [s.target.registrationId, s]));
    for (const r of results) {
      if (r.outcome === 'sent') continue;
      const s = byId.get(r.registrationId)!;
      if (r.outcome === 'dead') {
        await this.db.updateTable('devices').set({ token: null }).where('app_id', '=', appId).where('registration_id', '=', r.registrationId).where('token', '=', s.target.token).execute();
      }
      losses.push({ registrationId: r.registrationId, userId: s.userId, code: r.code, stage: 'post_send', reason: `${vendor}${r.outcome === 'dead' ? ' (token cleared)' : ''}: ${r.info}`.slice(0, 500) });
    }
  }

  private async record(batch: OfflineBatch, losses: Loss[]): Promise<void> {
    if (losses.length === 0) return;
    const now = Date.now();
    if (batch.targets[0]!.seq !== null) {
      await events.insertLosses(this.db, losses.map((l) => ({ app_id: batch.appId, task_id: batch.taskId, registration_id: l.registrationId, user_id: l.userId, stage: l.stage, code: l.code, reason: l.reason, created_at: now })));
      return;
    }
    for (const [code, list] of groupBy(losses, (l) => l.code)) {
      this.counts.add({ appId: batch.appId, taskId: batch.taskId, code, stage: list[0]!.stage, reason: list[0]!.reason, count: list.length });
    }
  }

  private certificates(appId: number): Promise<CertificateRow[]> {
    const now = Date.now();
    const hit = this.certs.get(appId);
    if (hit && hit.until > now) return hit.rows;
    const rows = certificates.listCertificates(this.db, appId);
    if (this.certs.size > 1000) this.certs.clear();
    this.certs.set(appId, { rows, until: now + 2000 });
    return rows;
  }

  private message(appId: number, taskId: string): Promise<VendorMessage | undefined> {
    const key = `${appId}:${taskId}`;
    let m = this.messages.get(key);
    if (!m) {
      m = tasks.findTask(this.db, appId, taskId).then((row) => {
        if (!row) return undefined;
        const stored = JSON.parse(row.message) as StoredMessage;
        const pick = (locale: string | null) => pickLanguage(locale, stored.info.MultiLanguageContent);
        return { taskId, expiresAt: stored.expiresAt, render: (locale: string | null) => deviceMessage(stored, pick(locale)), variant: (locale: string | null) => pick(locale)?.Language ?? '' };
      });
      if (this.messages.size > 200) this.messages.clear();
      this.messages.set(key, m);
    }
    return m;
  }
}

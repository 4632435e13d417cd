import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { certificates, events, inbox, tasks } from '../store/index.js';
import type { CertificateRow } from '../store/certificates.js';
import { LossReason } from '../stats/loss-reasons.js';
import { EventType, platformOf } from '../stats/platforms.js';
import { lossEntries, type StatDevice, type StatEntry, type StatsRecorder } from '../stats/recorder.js';
import { chunks } from '../util/chunks.js';
import { groupBy } from '../util/group-by.js';
import { pickLanguage } from '../dispatch/locale.js';
import { deviceMessage, type StoredMessage } from '../dispatch/message.js';
import type { OfflinePushInfo } from '../dispatch/offline-push-info.js';
import { resolveAudience, type Audience } from '../dispatch/audience.js';
import type { CertVendor } from './certificates.js';
import { CertificateGates, type GateLimits } from './certificate-gates.js';
import { CertificateHealth } from './certificate-health.js';
import type { OfflineBatch, OfflineChannels, RecallRequest } from './index.js';
import type { CertificateCheck, VendorAdapter, VendorMessage, VendorResult, VendorTarget } from './vendor.js';

/** A device not sent to, and why; also the device as statistics count it (its platform is its vendor's), so a batch's losses are counted with no copy per device. */
interface Loss extends StatDevice {
  userId: string | null;
  devicePlatform: number;
  code: number;
  stage: string;
  reason: string;
}

function loss(registrationId: string, userId: string | null, platform: number, r: { code: number; stage: string; reason: string }): Loss {
  return { registrationId, userId, platform, devicePlatform: platform, code: r.code, stage: r.stage, reason: r.reason };
}

/**
 * Losses grouped by platform, stage and code, in first-seen order: a batch holds a few platforms and
 * reasons, so each loss is compared with a few groups rather than keyed by a string built per device.
 */
function groupLosses(losses: readonly Loss[]): Loss[][] {
  const byPlatform = new Map<number, Loss[][]>();
  const out: Loss[][] = [];
  for (const l of losses) {
    let groups = byPlatform.get(l.platform);
    if (!groups) byPlatform.set(l.platform, (groups = []));
    const group = groups.find((g) => g[0]!.stage === l.stage && g[0]!.code === l.code);
    if (group) group.push(l);
    else {
      const fresh = [l];
      groups.push(fresh);
      out.push(fresh);
    }
  }
  return out;
}

/** What a loss's reason says besides the vendor's answer, by outcome. */
const OUTCOME_NOTE: Record<Exclude<VendorResult['outcome'], 'sent'>, string> = {
  dead: ' (token cleared)',
  failed: '',
  switched_off: ' (notifications switched off on the device; token kept)',
  certificate: ' (the certificate was refused and is stopped; token kept)',
};

/** A device that can be sent to: its certificate, that vendor's adapter, and its token. */
interface Routed {
  cert: CertificateRow;
  adapter: VendorAdapter;
  target: VendorTarget;
  userId: string | null;
  platform: number;
}

/** What one batch's sends came to: the devices the vendors took, and those they refused. */
interface Settled {
  accepted: Routed[];
  refused: Routed[];
}

interface DeviceRow {
  registration_id: string;
  user_id: string | null;
  vendor: string | null;
  token: string | null;
  voip_token: string | null;
  certificate_id: number | null;
  locale: string | null;
}

/** A stored push as adapters see it: rendered per device language. */
export function vendorMessage(taskId: string, stored: StoredMessage): VendorMessage {
  const pick = (locale: string | null) => pickLanguage(locale, stored.info.MultiLanguageContent);
  return { taskId, expiresAt: stored.expiresAt, render: (locale) => deviceMessage(stored, pick(locale)), variant: (locale) => pick(locale)?.Language ?? '' };
}

/**
 * The offline channels: for each batch of devices without a gateway session, finds each device's
 * token and the app's certificate for its vendor, sends through that vendor's adapter within the
 * certificate's limits, clears tokens the vendor says are dead, counts what each vendor took, and
 * records every device not sent to, with its reason (-2 no token, -1 no certificate, or the
 * vendor's code). Single and batch pushes keep a loss row per device; all-users and tag pushes
 * add to their counters.
 */
export class VendorChannels implements OfflineChannels {
  private messages = new Map<string, Promise<VendorMessage | undefined>>();
  private certs = new Map<number, { rows: Promise<CertificateRow[]>; until: number }>();
  private gates: CertificateGates;

  constructor(
    private db: Kysely<Database>,
    private stats: StatsRecorder,
    private adapters: Partial<Record<CertVendor, VendorAdapter>>,
    private onError: (err: unknown) => void,
    /** The URL a vendor posts this certificate's delivery receipts to (routes in api/receipts). */
    private receiptUrl: (appId: number, cert: CertificateRow) => Promise<string | undefined> = async () => undefined,
    limits: GateLimits = { concurrency: 8, perSecond: 0 },
    private health: CertificateHealth = new CertificateHealth(db, { probeAfterMs: 15 * 60_000 }),
  ) {
    this.gates = new CertificateGates(limits);
  }

  flush(): Promise<void> {
    return this.stats.flush();
  }

  async sendOffline(batch: OfflineBatch): Promise<void> {
    if (batch.targets.length === 0) return;
    const { appId, taskId } = batch;
    const losses: Loss[] = [];
    const found = await this.devices(appId, batch.targets.map((t) => t.registrationId));
    const sends = await this.route(appId, found, losses);
    if (batch.targets.some((t) => t.badge !== undefined)) {
      const badges = new Map(batch.targets.map((t) => [t.registrationId, t.badge]));
      for (const s of sends) s.target.badge = badges.get(s.target.registrationId);
    }
    const settled: Settled = { accepted: [], refused: [] };
    if (sends.length > 0) {
      const message = await this.message(appId, taskId);
      if (message) {
        // certificates (and so vendors) are sent to side by side; each within its own limits
        const results = await Promise.all([...groupBy(sends, (s) => s.cert).values()].map((group) => this.sendGroup(appId, message, group, losses)));
        for (const r of results) settled.accepted.push(...r.accepted), settled.refused.push(...r.refused);
        if (batch.targets[0]!.seq !== null) await inbox.markVendorSent(this.db, appId, taskId, settled.accepted.map((s) => s.target.registrationId));
      }
    }
    await this.record(batch, found, settled, losses);
  }

  /**
   * A push was recalled. Devices known to have been sent it through their vendor (single and
   * batch pushes) get the vendor's withdrawal or an overwrite with the replacement. For all-users
   * and tag pushes Herald keeps no per-device record of vendor sends, so only vendors whose recall
   * withdraws (a notification that is not there is left alone) are asked, for the whole audience:
   * an overwrite would show the replacement on devices that never had the push.
   */
  async recall(r: RecallRequest): Promise<void> {
    const task = await tasks.findTask(this.db, r.appId, r.taskId);
    if (!task) return;
    const stored = JSON.parse(task.message) as StoredMessage;
    const message = vendorMessage(r.taskId, r.info ? { ...stored, info: r.info as OfflinePushInfo } : stored);
    let ids: readonly string[];
    let withdrawOnly = false;
    if (r.vendorSent) ids = r.vendorSent;
    else if (task.audience && Object.values(this.adapters).some((a) => a?.recallWithdraws)) {
      ids = await resolveAudience(this.db, r.appId, JSON.parse(task.audience) as Audience);
      withdrawOnly = true;
    } else return;
    for (const part of chunks(ids, 1000)) {
      // a stopped certificate would only be refused again
      const routed = (await this.route(r.appId, await this.devices(r.appId, part), [])).filter((s) => s.adapter.recall && (!withdrawOnly || s.adapter.recallWithdraws) && !this.health.isStopped(r.appId, s.cert));
      await Promise.all(
        [...groupBy(routed, (s) => s.cert).values()].map(async (group) => {
          const { cert, adapter } = group[0]!;
          const config = JSON.parse(cert.config) as Record<string, unknown>;
          await this.gates.of(r.appId, cert, config).run(group.length, () => adapter.recall!(config, { message, targets: group.map((s) => s.target) })).catch(this.onError);
        }),
      );
    }
  }

  /**
   * Tries a certificate's credentials against its vendor (VendorAdapter.check), notifying no one.
   * A stopped certificate that passes resumes: the operator fixed it at the vendor. Undefined when
   * the app has no such certificate.
   */
  async checkCertificate(appId: number, certId: number, timeoutMs = 15_000): Promise<{ vendor: string; result: CertificateCheck } | undefined> {
    const cert = await certificates.findCertificate(this.db, appId, certId);
    if (!cert) return undefined;
    const adapter = this.adapters[(cert.vendor === 'apns-voip' ? 'apns' : cert.vendor) as CertVendor];
    if (!adapter?.check) return { vendor: cert.vendor, result: { ok: false, code: 0, info: `Herald has no credentials check for ${cert.vendor}` } };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CertificateCheck>((resolve) => (timer = setTimeout(() => resolve({ ok: false, code: 0, info: `no answer from ${cert.vendor} within ${timeoutMs / 1000} s` }), timeoutMs)));
    const result = await Promise.race([
      adapter.check(JSON.parse(cert.config) as Record<string, unknown>).catch((err: unknown): CertificateCheck => ({ ok: false, code: 0, info: err instanceof Error ? err.message : String(err) })),
      timeout,
    ]);
    clearTimeout(timer);
    if (result.ok && cert.stopped_at !== null) {
      await certificates.clearStop(this.db, appId, certId, Number(cert.updated_at));
      this.certs.delete(appId);
    }
    return { vendor: cert.vendor, result };
  }

  /**
   * The devices' rows. A batch of an all-users push is a dense run of registration ids, read fastest
   * as one range (about 1 µs a row where 1,000 lookups by key cost 5 ms); a sparse batch, where the
   * range holds more than twice as many devices, is looked up by key.
   */
  private async devices(appId: number, ids: readonly string[]): Promise<DeviceRow[]> {
    const out: DeviceRow[] = [];
    const cols = ['registration_id', 'user_id', 'vendor', 'token', 'voip_token', 'certificate_id', 'locale'] as const;
    for (const part of chunks([...ids].sort(), 1000)) {
      const range = await this.db
        .selectFrom('devices')
        .select(cols)
        .where('app_id', '=', appId)
        .where('registration_id', '>=', part[0]!)
        .where('registration_id', '<=', part[part.length - 1]!)
        .limit(2 * part.length + 1)
        .execute();
      if (range.length <= 2 * part.length) {
        const wanted = new Set(part);
        out.push(...range.filter((d) => wanted.has(d.registration_id)));
      } else {
        out.push(...(await this.db.selectFrom('devices').select(cols).where('app_id', '=', appId).where('registration_id', 'in', part).execute()));
      }
    }
    return out;
  }

  /** Each device's certificate and adapter, or its loss: no token, no certificate, no channel. */
  private async route(appId: number, devices: DeviceRow[], losses: Loss[]): Promise<Routed[]> {
    // the app's certificates by vendor, once per batch rather than a scan per device
    const byVendor = groupBy(await this.certificates(appId), (c) => c.vendor);
    const lose = (d: DeviceRow, r: { code: number; stage: string; reason: string }) => losses.push(loss(d.registration_id, d.user_id, platformOf(d.vendor), r));
    const out: Routed[] = [];
    for (const d of devices) {
      if (!d.vendor || !(d.token || d.voip_token)) {
        lose(d, LossReason.noToken);
        continue;
      }
      // a PushKit token registered on its own (vendor apns-voip) goes through the APNs certificate
      const vendor = d.vendor === 'apns-voip' ? 'apns' : d.vendor;
      // a vendor with no server API Herald can call (NIO: docs/vendors.md) has no certificate either
      const adapter = this.adapters[vendor as CertVendor];
      if (!adapter) {
        lose(d, LossReason.noChannel);
        continue;
      }
      const ofVendor = byVendor.get(vendor) ?? [];
      // The device names its certificate; one that names none uses the app's only one for its vendor.
      const cert = d.certificate_id !== null ? ofVendor.find((c) => Number(c.cert_id) === Number(d.certificate_id)) : ofVendor.length === 1 ? ofVendor[0] : undefined;
      if (!cert) {
        lose(d, LossReason.noCertificate);
        continue;
      }
      out.push({ cert, adapter, target: { registrationId: d.registration_id, token: d.token ?? '', voipToken: d.voip_token, locale: d.locale }, userId: d.user_id, platform: platformOf(vendor) });
    }
    return out;
  }

  /** Sends one certificate's devices; returns those the vendor took and those it refused. */
  private async sendGroup(appId: number, message: VendorMessage, group: Routed[], losses: Loss[]): Promise<Settled> {
    const { adapter } = group[0]!;
    let cert = group[0]!.cert;
    let verdict = this.health.verdict(appId, cert);
    if (!verdict.send) {
      // a stopped certificate may have just been replaced: its row is read again before its devices are given up
      const fresh = await certificates.findCertificate(this.db, appId, Number(cert.cert_id));
      if (fresh && Number(fresh.updated_at) !== Number(cert.updated_at)) {
        this.certs.delete(appId);
        cert = fresh;
        verdict = this.health.verdict(appId, cert);
      }
    }
    const config = JSON.parse(cert.config) as Record<string, unknown>;
    const gate = this.gates.of(appId, cert, config);
    const lostBeforeSending = (code: number, reason: string): Settled => {
      for (const s of group) losses.push(loss(s.target.registrationId, s.userId, s.platform, { code, stage: 'ready_to_send', reason: reason.slice(0, 500) }));
      return { accepted: [], refused: [] };
    };
    const pause = gate.paused();
    // the vendor said this certificate's quota is spent: asking again before it resets only earns more refusals
    if (pause) return lostBeforeSending(pause.code, `${cert.vendor} paused until ${new Date(pause.until).toISOString()}: ${pause.info}`);
    if (!verdict.send) {
      const { stop } = verdict;
      return lostBeforeSending(LossReason.certificateStopped.code, `${cert.vendor} certificate ${cert.cert_id} stopped since ${new Date(stop.since).toISOString()} (${stop.code}: ${stop.reason}); replace it to resume`);
    }
    let results: VendorResult[];
    try {
      const ctx = { receiptUrl: await this.receiptUrl(appId, cert), certificateProven: this.health.proven(appId, cert) };
      results = await gate.run(group.length, () => adapter.send(config, message, group.map((s) => s.target), ctx));
    } catch (err) {
      // an adapter bug or an unusable certificate: every device of the group is lost, with why
      results = group.map((s) => ({ registrationId: s.target.registrationId, outcome: 'failed', code: 0, info: (err as Error).message }));
    }
    const settled = await this.settle(appId, cert.vendor, group, results, losses, (ms, code, info) => gate.pauseFor(ms, code, info));
    await this.judge(appId, cert, results, verdict.probe);
    return settled;
  }

  /**
   * What a batch's answers say of the certificate: any refusal of the certificate itself stops it;
   * a send taken proves it (and ends a stop a probe was let through for).
   */
  private async judge(appId: number, cert: CertificateRow, results: readonly VendorResult[], probe: boolean): Promise<void> {
    const refusal = results.find((r) => r.outcome === 'certificate');
    if (refusal && refusal.outcome === 'certificate') await this.health.refused(appId, cert, refusal.code, `${cert.vendor}: ${refusal.info}`);
    else if (results.some((r) => r.outcome === 'sent')) await this.health.worked(appId, cert);
    else if (probe) this.health.inconclusive(appId, cert);
  }

  /**
   * Dead tokens are cleared (only if the device still has that token); devices whose users
   * switched notifications off keep theirs and are marked so; vendor refusals become losses.
   */
  private async settle(appId: number, vendor: string, group: Routed[], results: VendorResult[], losses: Loss[], pause: (ms: number, code: number, info: string) => void): Promise<Settled> {
    const byId = new Map(group.map((s) => [s.target.registrationId, s]));
    const out: Settled = { accepted: [], refused: [] };
    const dead: { t: VendorTarget; voip: boolean }[] = [];
    const switchedOff: VendorTarget[] = [];
    for (const r of results) {
      const s = byId.get(r.registrationId)!;
      if (r.outcome === 'sent') {
        out.accepted.push(s);
        continue;
      }
      out.refused.push(s);
      if (r.outcome === 'dead') dead.push({ t: s.target, voip: r.voip === true });
      if (r.outcome === 'switched_off') switchedOff.push(s.target);
      if (r.outcome === 'failed' && r.pauseMs) pause(r.pauseMs, r.code, r.info);
      losses.push(loss(r.registrationId, s.userId, s.platform, { code: r.code, stage: 'post_send', reason: `${vendor}${OUTCOME_NOTE[r.outcome]}: ${r.info}`.slice(0, 500) }));
    }
    // a dead APNs VoIP token clears voip_token; the device's alert token stays
    for (const voip of [false, true]) {
      const col = voip ? 'voip_token' : 'token';
      for (const part of chunks(dead.filter((d) => d.voip === voip), 200)) {
        await this.db
          .updateTable('devices')
          .set({ [col]: null })
          .where('app_id', '=', appId)
          .where((eb) => eb.or(part.map(({ t }) => eb.and([eb('registration_id', '=', t.registrationId), eb(col, '=', (voip ? t.voipToken : t.token) ?? '')]))))
          .execute();
      }
    }
    for (const part of chunks(switchedOff, 200)) {
      await this.db
        .updateTable('devices')
        .set({ notification_permission: 'denied' })
        .where('app_id', '=', appId)
        .where((eb) => eb.or(part.map((t) => eb.and([eb('registration_id', '=', t.registrationId), eb('token', '=', t.token)]))))
        .execute();
    }
    return out;
  }

  /**
   * Counts the batch on the vendor channel (EventType 1): every device found is sendable there;
   * a request made is sent (the vendor's refusal is then a post-send loss, as Tencent counts 410
   * Unregistered); a device that could not be sent to is a ready-to-send loss. Single and batch
   * pushes keep a loss row per device; all-users and tag pushes keep theirs as trace steps, since a
   * loss row would mark the device decided for the gateway channel too (inbox.decidedFor).
   */
  private async record(batch: OfflineBatch, found: readonly DeviceRow[], settled: Settled, losses: Loss[]): Promise<void> {
    const now = Date.now();
    const base = { appId: batch.appId, taskId: batch.taskId, eventType: EventType.offline, at: now };
    const device = (s: Routed): StatDevice => ({ registrationId: s.target.registrationId, userId: s.userId, platform: s.platform, devicePlatform: s.platform });
    const perDevice = batch.targets[0]!.seq !== null;
    const entries: StatEntry[] = [
      // sendable is only counted (no callback, no trace): per platform, not per device
      ...[...groupBy(found, (d) => platformOf(d.vendor))].map(([platform, list]): StatEntry => ({ ...base, metric: 'sendable', platform, count: list.length })),
      ...[...groupBy(settled.accepted, (s) => s.cert).values()].map((g): StatEntry => ({ ...base, metric: 'sent', devices: g.map(device), trace: 'vendor_sent', info: `${g[0]!.cert.vendor} certificate ${g[0]!.cert.cert_id}` })),
      { ...base, metric: 'sent', devices: settled.refused.map(device) },
      ...groupLosses(losses).flatMap((list) =>
        lossEntries(base, list[0]!, { devices: list }, false).map((e) =>
          // all-users and tag pushes keep no loss row per device: a refusal by the vendor is kept as a trace step (a device not sent to shows in its link as having no token or certificate)
          perDevice || e.metric !== 'loss_post' ? e : { ...e, trace: 'vendor_lost' },
        ),
      ),
    ];
    this.stats.add(entries.filter((e) => (e.devices?.length ?? e.count ?? 0) > 0));
    if (perDevice && losses.length > 0) {
      await events.insertLosses(this.db, losses.map((l) => ({ app_id: batch.appId, task_id: batch.taskId, registration_id: l.registrationId, user_id: l.userId, stage: l.stage, code: l.code, reason: l.reason, created_at: now })));
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
      m = tasks.findTask(this.db, appId, taskId).then((row) => (row ? vendorMessage(taskId, JSON.parse(row.message) as StoredMessage) : undefined));
      if (this.messages.size > 200) this.messages.clear();
      this.messages.set(key, m);
    }
    return m;
  }
}

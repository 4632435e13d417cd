/**
 * Vendor emulators for the offline fan-out benchmark, in a process of their own so they do not
 * share Herald's core. Forked by run.ts with the vendors to host (comma-separated); answers over
 * IPC: `setup` (each vendor's certificate config pointing here, and Web Push subscriptions),
 * `counts` (devices each emulator accepted so far, distinct tokens, requests, first and last
 * arrival), `load` and `stop` (bench/gateway/server-ipc.ts). The emulators check auth and
 * payloads as in the e2e tests; nothing here weakens them.
 */
import {
  ApnsEmulator,
  FcmEmulator,
  HarmonyEmulator,
  HonorEmulator,
  HuaweiEmulator,
  MeizuEmulator,
  OppoEmulator,
  VivoEmulator,
  WebPushEmulator,
  XiaomiEmulator,
} from '@herald/emulators';
import { serveIpc, type OtherRequest } from '../gateway/server-ipc.js';
import { BUNDLE_ID, isBenchVendor, type BenchVendor, type VendorCount } from './plan.js';

/** A running emulator: the certificate config Herald needs for it, and the device tokens of each accepted request. */
interface Hosted {
  config: Record<string, unknown>;
  /** Accepted requests so far, each as the tokens it carried. */
  accepted(): readonly unknown[];
  tokensOf(r: unknown): readonly string[];
  stop(): Promise<void>;
  webPush?: WebPushEmulator;
}

type Item<T extends { received: readonly unknown[] }> = T['received'][number];

/** Starts one vendor's emulator on a free loopback port. */
async function host(vendor: BenchVendor): Promise<Hosted> {
  switch (vendor) {
    case 'apns': {
      const e = new ApnsEmulator();
      await e.start();
      return { config: { ...e.app(BUNDLE_ID), production: false, baseUrl: e.base, caCertificate: e.caCertificate }, accepted: () => e.received, tokensOf: (r) => [(r as Item<ApnsEmulator>).token], stop: () => e.stop() };
    }
    case 'fcm': {
      const e = new FcmEmulator();
      const base = await e.start();
      return { config: { serviceAccount: e.serviceAccount('herald-bench'), baseUrl: base, caCertificate: e.caCertificate }, accepted: () => e.received, tokensOf: (r) => [String((r as Item<FcmEmulator>).message.token)], stop: () => e.stop() };
    }
    case 'webpush': {
      const e = new WebPushEmulator();
      await e.start();
      // Herald makes the VAPID pair when the certificate is stored; the emulator checks whichever key signs
      return { config: { subject: 'mailto:bench@example.com' }, accepted: () => e.received, tokensOf: (r) => [(r as Item<WebPushEmulator>).id], stop: () => e.stop(), webPush: e };
    }
    case 'huawei': {
      const e = new HuaweiEmulator();
      const base = await e.start();
      return { config: { ...e.app(), baseUrl: base, tokenUrl: `${base}/oauth2/v3/token` }, accepted: () => e.received, tokensOf: (r) => (r as Item<HuaweiEmulator>).tokens, stop: () => e.stop() };
    }
    case 'honor': {
      const e = new HonorEmulator();
      const base = await e.start();
      return { config: { ...e.app(), baseUrl: base, tokenUrl: `${base}/auth/token` }, accepted: () => e.received, tokensOf: (r) => (r as Item<HonorEmulator>).tokens, stop: () => e.stop() };
    }
    case 'harmony': {
      const e = new HarmonyEmulator();
      const base = await e.start();
      const a = e.app();
      return { config: { projectId: a.projectId, clientId: a.clientId, serviceAccount: a.serviceAccount, baseUrl: base }, accepted: () => e.received, tokensOf: (r) => (r as Item<HarmonyEmulator>).tokens, stop: () => e.stop() };
    }
    case 'xiaomi': {
      const e = new XiaomiEmulator();
      const base = await e.start();
      return { config: { ...e.app('com.example.bench'), baseUrl: base }, accepted: () => e.received, tokensOf: (r) => (r as Item<XiaomiEmulator>).regIds, stop: () => e.stop() };
    }
    case 'oppo': {
      const e = new OppoEmulator();
      const base = await e.start();
      return { config: { ...e.app(), baseUrl: base }, accepted: () => e.received, tokensOf: (r) => (r as Item<OppoEmulator>).regIds, stop: () => e.stop() };
    }
    case 'vivo': {
      const e = new VivoEmulator();
      const base = await e.start();
      return { config: { ...e.app(), baseUrl: base }, accepted: () => e.received, tokensOf: (r) => (r as Item<VivoEmulator>).regIds, stop: () => e.stop() };
    }
    case 'meizu': {
      const e = new MeizuEmulator();
      const base = await e.start();
      return { config: { ...e.app(), baseUrl: base }, accepted: () => e.received, tokensOf: (r) => (r as Item<MeizuEmulator>).pushIds, stop: () => e.stop() };
    }
  }
}

/** Counts what one emulator accepted, reading only what arrived since the last look. */
class Counter {
  devices = 0;
  requests = 0;
  firstAt = NaN;
  lastAt = NaN;
  private tokens = new Set<string>();

  constructor(private h: Hosted) {}

  poll(now: number): void {
    const list = this.h.accepted();
    if (list.length === this.requests) return;
    for (; this.requests < list.length; this.requests++) {
      for (const t of this.h.tokensOf(list[this.requests])) {
        this.devices++;
        this.tokens.add(t);
      }
    }
    if (Number.isNaN(this.firstAt)) this.firstAt = now;
    this.lastAt = now;
  }

  count(vendor: BenchVendor): VendorCount {
    return { vendor, devices: this.devices, distinct: this.tokens.size, requests: this.requests, firstAt: this.firstAt, lastAt: this.lastAt };
  }
}

const vendors = (process.argv[2] ?? '').split(',').filter(Boolean);
for (const v of vendors) if (!isBenchVendor(v)) throw new Error(`emulators.ts: unknown vendor ${v}`);
const hosted = new Map<BenchVendor, Hosted>();
for (const v of vendors as BenchVendor[]) hosted.set(v, await host(v));
const counters = new Map([...hosted].map(([v, h]) => [v, new Counter(h)]));
// Arrival times to within 20 ms, without touching the emulators' request path.
const poller = setInterval(() => {
  const now = Date.now();
  for (const c of counters.values()) c.poll(now);
}, 20);

serveIpc(
  `emulators:${vendors.join(',')}`,
  async () => {
    clearInterval(poller);
    await Promise.all([...hosted.values()].map((h) => h.stop()));
  },
  async (req: OtherRequest) => {
    switch (req.cmd) {
      case 'setup': {
        // Web Push tokens are real subscriptions: the emulator keeps their keys, to decrypt as a browser would
        const n = Number(req.webPushSubscriptions ?? 0);
        const wp = hosted.get('webpush')?.webPush;
        const subscriptions = wp ? Array.from({ length: n }, () => JSON.stringify(wp.subscribe())) : [];
        return { configs: Object.fromEntries([...hosted].map(([v, h]) => [v, h.config])), subscriptions };
      }
      case 'counts': {
        const now = Date.now();
        return [...counters].map(([v, c]) => (c.poll(now), c.count(v)));
      }
      default:
        throw new Error(`unknown command ${req.cmd}`);
    }
  },
);

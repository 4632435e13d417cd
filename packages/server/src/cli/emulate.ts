import { ApnsEmulator, FcmEmulator, HarmonyEmulator, HonorEmulator, HuaweiEmulator, MeizuEmulator, OppoEmulator, VivoEmulator, WebPushEmulator, XiaomiEmulator } from '@herald/emulators';
import type { CertVendor } from '../channels/certificates.js';
import { callAdmin, type AdminTarget } from './admin-request.js';

/** One vendor emulator running for `herald emulate`. */
interface Running {
  vendor: CertVendor;
  base: string;
  /** The certificate config that points Herald at this emulator, with credentials it accepts. */
  config: Record<string, unknown>;
  /** What it has received so far, oldest first. */
  received(): readonly unknown[];
  stop(): Promise<void>;
  /** A line about how a test device gets a token this emulator accepts. */
  hint: string;
}

type Starter = (port: number) => Promise<Running>;

/** Every vendor with an emulator: started on consecutive ports from the first one given. */
const STARTERS: Starter[] = [
  async (port) => {
    const e = new ApnsEmulator();
    const base = await e.start(port);
    // HTTP/2 over TLS with a certificate made at start: Herald trusts it through caCertificate
    return { vendor: 'apns', base, config: { ...e.app('com.example.demo'), production: false, baseUrl: base, caCertificate: e.caCertificate }, received: () => e.received, stop: () => e.stop(), hint: `a device token is 64 hex digits, e.g. ${ApnsEmulator.deviceToken()}` };
  },
  async (port) => {
    const e = new FcmEmulator();
    const base = await e.start(port);
    return { vendor: 'fcm', base, config: { serviceAccount: e.serviceAccount('herald-demo'), baseUrl: base, caCertificate: e.caCertificate }, received: () => e.received, stop: () => e.stop(), hint: "any string of letters, digits, '-', '_' and ':' is a valid FCM token" };
  },
  async (port) => {
    const e = new HuaweiEmulator();
    const base = await e.start(port);
    return { vendor: 'huawei', base, config: { ...e.app(), baseUrl: base, tokenUrl: `${base}/oauth2/v3/token` }, received: () => e.received, stop: () => e.stop(), hint: 'any string is a valid Huawei token' };
  },
  async (port) => {
    const e = new HonorEmulator();
    const base = await e.start(port);
    return { vendor: 'honor', base, config: { ...e.app(), baseUrl: base, tokenUrl: `${base}/auth/token` }, received: () => e.received, stop: () => e.stop(), hint: 'any string is a valid Honor token' };
  },
  async (port) => {
    const e = new HarmonyEmulator();
    const base = await e.start(port);
    const a = e.app();
    return { vendor: 'harmony', base, config: { projectId: a.projectId, clientId: a.clientId, serviceAccount: a.serviceAccount, baseUrl: base }, received: () => e.received, stop: () => e.stop(), hint: 'any token of letters, digits and -_.:+/= is a valid HarmonyOS token' };
  },
  async (port) => {
    const e = new XiaomiEmulator();
    const base = await e.start(port);
    return { vendor: 'xiaomi', base, config: { ...e.app('com.example.demo'), baseUrl: base }, received: () => e.received, stop: () => e.stop(), hint: 'any string is a valid regId' };
  },
  async (port) => {
    const e = new OppoEmulator();
    const base = await e.start(port);
    return { vendor: 'oppo', base, config: { ...e.app(), baseUrl: base }, received: () => e.received, stop: () => e.stop(), hint: 'any string is a valid registration_id' };
  },
  async (port) => {
    const e = new VivoEmulator();
    const base = await e.start(port);
    return { vendor: 'vivo', base, config: { ...e.app(), baseUrl: base }, received: () => e.received, stop: () => e.stop(), hint: 'any string is a valid regId' };
  },
  async (port) => {
    const e = new MeizuEmulator();
    const base = await e.start(port);
    return { vendor: 'meizu', base, config: { ...e.app(), baseUrl: base }, received: () => e.received, stop: () => e.stop(), hint: 'any string is a valid pushId' };
  },
  async (port) => {
    const e = new WebPushEmulator();
    const base = await e.start(port);
    // the VAPID keys are Herald's own (set_certificate makes a pair); the emulator checks whichever key signs
    return { vendor: 'webpush', base, config: { subject: 'mailto:demo@example.com' }, received: () => e.received, stop: () => e.stop(), hint: `a subscription it accepts (the device token): ${JSON.stringify(e.subscribe())}` };
  },
];

export interface EmulateOptions {
  target: AdminTarget;
  host: string;
  port: number;
  out: (line: string) => void;
}

/**
 * Runs every vendor emulator on loopback, stores one certificate per vendor (named "emulator",
 * replaced on each run) in the app through the admin API, and prints what each emulator receives.
 */
export async function emulate(o: EmulateOptions): Promise<{ stop(): Promise<void> }> {
  const running: Running[] = [];
  for (const [i, start] of STARTERS.entries()) running.push(await start(o.port === 0 ? 0 : o.port + i));
  const existing = (await callAdmin(o.target, 'get_certificates', {})) as { ActionStatus?: string; ErrorInfo?: string; Certificates?: { CertId: number; Vendor: string; Name: string }[] };
  if (existing.ActionStatus !== 'OK') throw new Error(`get_certificates: ${existing.ErrorInfo ?? 'failed'}`);
  for (const r of running) {
    const old = existing.Certificates?.find((c) => c.Vendor === r.vendor && c.Name === 'emulator');
    const saved = await callAdmin(o.target, 'set_certificate', { Vendor: r.vendor, Name: 'emulator', Config: r.config, ...(old ? { CertId: old.CertId } : {}) });
    if (saved.ActionStatus !== 'OK') throw new Error(`set_certificate ${r.vendor}: ${String(saved.ErrorInfo)}`);
    o.out(`${r.vendor.padEnd(8)} ${r.base}  certificate ${String(saved.CertId)}  (${r.hint})`);
  }
  o.out('waiting for pushes; Ctrl-C to stop');
  const seen = running.map(() => 0);
  const timer = setInterval(() => {
    running.forEach((r, i) => {
      const list = r.received();
      for (; seen[i]! < list.length; seen[i]!++) o.out(`[${new Date().toISOString()}] ${r.vendor} received ${JSON.stringify(list[seen[i]!])}`);
    });
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(running.map((r) => r.stop()));
    },
  };
}

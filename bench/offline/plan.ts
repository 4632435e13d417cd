/**
 * Who gets what in the offline fan-out benchmark: how many devices each vendor has, which vendor
 * device i belongs to, and its token. Shared by the seeder, the emulator host and the report.
 */
import crypto from 'node:crypto';
import { unit } from '../fanout/model.js';

/** Every vendor Herald has an adapter and an emulator for. */
export const BENCH_VENDORS = ['apns', 'fcm', 'webpush', 'huawei', 'honor', 'harmony', 'xiaomi', 'oppo', 'vivo', 'meizu'] as const;
export type BenchVendor = (typeof BENCH_VENDORS)[number];
export const isBenchVendor = (v: string): v is BenchVendor => (BENCH_VENDORS as readonly string[]).includes(v);

export const BUNDLE_ID = 'com.example.bench';

/** Devices per vendor, in BENCH_VENDORS order. */
export type Shares = Partial<Record<BenchVendor, number>>;

/**
 * `devices` spread evenly over the vendors, except Web Push, which gets `webPush` devices (its
 * payloads are encrypted per device, RFC 8291, in Herald and decrypted again in the emulator).
 */
export function evenShares(devices: number, webPush: number): Shares {
  const others = BENCH_VENDORS.filter((v) => v !== 'webpush');
  const rest = devices - webPush;
  const shares: Shares = { webpush: webPush };
  others.forEach((v, k) => (shares[v] = Math.floor(((k + 1) * rest) / others.length) - Math.floor((k * rest) / others.length)));
  return shares;
}

/**
 * The vendor of each device index: the shares, shuffled by a fixed hash so that every page of the
 * fan-out holds a mix of vendors, as a real audience would.
 */
export function vendorOfIndex(shares: Shares): BenchVendor[] {
  const out: BenchVendor[] = [];
  for (const v of BENCH_VENDORS) for (let k = 0; k < (shares[v] ?? 0); k++) out.push(v);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(unit(i, 7) * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The token of device i of a vendor other than Web Push (whose tokens are the emulator's subscriptions). */
export function tokenOf(vendor: BenchVendor, i: number): string {
  // APNs device tokens are 32 bytes in hex; the emulator refuses anything else
  return vendor === 'apns' ? crypto.createHash('sha256').update(`bench-${i}`).digest('hex') : `${vendor}-${i}`;
}

export const platformOf = (vendor: BenchVendor): string => (vendor === 'apns' ? 'ios' : vendor === 'webpush' ? 'web' : vendor === 'harmony' ? 'harmony' : 'android');

/** What an emulator host reports per vendor: devices accepted (with duplicates), distinct tokens, requests, first and last arrival (epoch ms). */
export interface VendorCount {
  vendor: BenchVendor;
  devices: number;
  distinct: number;
  requests: number;
  firstAt: number;
  lastAt: number;
}

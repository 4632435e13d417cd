/**
 * The offline benchmark's store: one app and N devices, none connected, each with a vendor and a
 * token (no certificate id: an app with one certificate per vendor uses it). Bulk-inserted the way
 * bench/fanout/seed.ts does; made afresh for every run because Web Push tokens are subscriptions
 * of that run's emulator.
 */
import { hashSecret } from '../../packages/server/src/auth/secrets.js';
import { closeBulk, inserter, openBulk } from '../fanout/seed.js';
import * as model from '../fanout/model.js';
import { platformOf, tokenOf, vendorOfIndex, type Shares } from './plan.js';

export interface OfflineSeed {
  sdkAppId: number;
  secretKey: string;
  devices: number;
  seedMs: number;
}

/** Seeds the devices of `shares` into a new store in `dataDir`; Web Push devices take `subscriptions` in order. */
export async function seedOffline(dataDir: string, shares: Shares, subscriptions: readonly string[]): Promise<OfflineSeed> {
  const t0 = performance.now();
  const vendors = vendorOfIndex(shares);
  if (subscriptions.length !== (shares.webpush ?? 0)) throw new Error(`seed: ${subscriptions.length} Web Push subscriptions for ${shares.webpush ?? 0} devices`);
  const { db, app } = await openBulk(dataDir);
  const now = Date.now();
  const dev = inserter(db, 'devices', ['app_id', 'registration_id', 'install_id', 'user_id', 'platform', 'vendor', 'token', 'locale', 'credential_hash', 'last_seq', 'created_at', 'updated_at'], 100);
  let webPush = 0;
  db.transaction(() => {
    vendors.forEach((v, i) => {
      const token = v === 'webpush' ? subscriptions[webPush++]! : tokenOf(v, i);
      const created = now - (vendors.length - i) * 10;
      dev.add(app.sdkAppId, model.registrationId(i), model.installId(i), model.userId(i), platformOf(v), v, token, model.locale(i), hashSecret(model.credential(i)), 0, created, created);
    });
    dev.flush();
  })();
  closeBulk(db);
  return { sdkAppId: app.sdkAppId, secretKey: app.secretKey, devices: vendors.length, seedMs: performance.now() - t0 };
}

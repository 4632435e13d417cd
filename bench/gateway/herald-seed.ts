/**
 * Seeds Herald's store before the server starts, in its own process, so the server's "before"
 * memory figure carries none of the seeding's garbage: one app, and devices registered through
 * the registry module in transactions (the device API would add an HTTP round trip and a commit per
 * device, which is not what the benchmark measures). Writes the device list for the clients.
 */
import fs from 'node:fs';
import path from 'node:path';
import { genUserSig } from '../../packages/server/src/auth/usersig.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { register } from '../../packages/server/src/registry/registration.js';
import { apps, openStore } from '../../packages/server/src/store/index.js';
import type { DeviceEntry, SeedResult } from './protocol.js';

const SEED_BATCH = 500;
const ADMIN = 'administrator';

const [dataDir, countArg, outDir] = process.argv.slice(2);
const count = Number(countArg);
if (!dataDir || !outDir || !Number.isInteger(count) || count < 1) throw new Error('usage: herald-seed.ts <dataDir> <devices> <outDir>');

const t0 = performance.now();
// Same store selection as the server (HERALD_DATABASE_URL passes through).
const config = loadConfig({ ...process.env, HERALD_DATA_DIR: dataDir });
const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
const db = store.db;
const app = await apps.createApp(db, 'bench');
const out: DeviceEntry[] = [];
for (let start = 0; start < count; start += SEED_BATCH) {
  const end = Math.min(count, start + SEED_BATCH);
  await db.transaction().execute(async (tx) => {
    for (let i = start; i < end; i++) {
      const r = await register(tx, app.sdkAppId, { installId: `bench-install-${i}`, platform: 'android', fields: { locale: 'en', sdkVersion: 'bench/1' } });
      if (!r.ok) throw new Error(`seeding device ${i} failed: ${r.reason}`);
      out.push({ r: r.registrationId, c: r.credential });
    }
  });
}
await store.close();
const devicesFile = path.join(outDir, 'herald-devices.json');
fs.writeFileSync(devicesFile, JSON.stringify(out));
const q = new URLSearchParams({ sdkappid: String(app.sdkAppId), identifier: ADMIN, usersig: genUserSig(app.sdkAppId, app.secretKey, ADMIN, 86400), contenttype: 'json' });
const result: SeedResult = { sdkAppId: app.sdkAppId, pushPath: `/v4/timpush/batch?${q}`, devicesFile, seedMs: performance.now() - t0 };
process.send?.({ type: 'seeded', ...result });
process.disconnect?.();

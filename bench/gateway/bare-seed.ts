import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DeviceEntry, SeedResult } from './protocol.js';

/** The baseline's devices: random RegistrationIDs and credentials, written to the file its server loads. */
export function seedBare(count: number, outDir: string): SeedResult {
  const t0 = performance.now();
  const out: DeviceEntry[] = [];
  for (let i = 0; i < count; i++) out.push({ r: `r_${crypto.randomBytes(16).toString('hex')}`, c: crypto.randomBytes(32).toString('base64url') });
  const devicesFile = path.join(outDir, 'bare-devices.json');
  fs.writeFileSync(devicesFile, JSON.stringify(out));
  return { sdkAppId: 1, pushPath: '/push?contenttype=json', devicesFile, seedMs: performance.now() - t0 };
}

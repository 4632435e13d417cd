import type { Kysely } from 'kysely';
import { hashSecret, randomHex, randomToken, secretMatches } from '../auth/secrets.js';
import type { Database } from '../store/index.js';
import { devices } from '../store/index.js';
import type { DeviceFields, DeviceRow } from '../store/devices.js';

export interface RegisterInput {
  installId: string;
  registrationId?: string;
  platform: string;
  fields: DeviceFields;
}

export type RegisterResult =
  | { ok: true; registrationId: string; credential: string; created: boolean }
  | { ok: false; reason: 'registration_id_taken' };

/**
 * Registers an install. The same installId keeps its RegistrationID (and its user binding) and gets
 * a fresh credential, which retires the old one.
 */
export async function register(db: Kysely<Database>, appId: number, input: RegisterInput, now = Date.now()): Promise<RegisterResult> {
  const credential = randomToken(32);
  const credentialHash = hashSecret(credential);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (input.registrationId !== undefined) {
      const holder = await devices.findDevice(db, appId, input.registrationId);
      if (holder && holder.install_id !== input.installId) return { ok: false, reason: 'registration_id_taken' };
    }
    const existing = await devices.findDeviceByInstall(db, appId, input.installId);
    if (existing && (input.registrationId === undefined || input.registrationId === existing.registration_id)) {
      await devices.updateDevice(db, appId, existing.registration_id, { ...input.fields, platform: input.platform }, now, { credential_hash: credentialHash });
      return { ok: true, registrationId: existing.registration_id, credential, created: false };
    }
    if (existing) {
      // The install asks for a different custom RegistrationID: it becomes a new device record.
      await devices.deleteDevice(db, appId, existing.registration_id);
    }
    const registrationId = input.registrationId ?? `r_${randomHex(16)}`;
    const inserted = await devices.insertDevice(
      db,
      { app_id: appId, registration_id: registrationId, install_id: input.installId, platform: input.platform, credential_hash: credentialHash, fields: input.fields },
      now,
    );
    if (inserted) return { ok: true, registrationId, credential, created: true };
    // Lost a race with a concurrent registration: the next pass sees what won.
  }
  throw new Error('device registration did not settle');
}

/** The device row when the credential opens it, else undefined. */
export async function authenticateDevice(db: Kysely<Database>, appId: number, registrationId: string, credential: string): Promise<DeviceRow | undefined> {
  const row = await devices.findDevice(db, appId, registrationId);
  if (!row || !secretMatches(credential, row.credential_hash)) return undefined;
  return row;
}

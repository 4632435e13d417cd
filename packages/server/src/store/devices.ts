import type { Kysely, Transaction } from 'kysely';
import type { Database, DevicesTable } from './schema.js';
import { chunks } from '../util/chunks.js';

export type DeviceRow = DevicesTable;

/** Fields a device reports about itself; undefined = leave as is, null = clear. */
export interface DeviceFields {
  platform?: string;
  vendor?: string | null;
  token?: string | null;
  /** APNs: the PushKit VoIP token. */
  voipToken?: string | null;
  certificateId?: number | null;
  locale?: string | null;
  timeZone?: string | null;
  appVersion?: string | null;
  sdkVersion?: string | null;
  deviceModel?: string | null;
  osVersion?: string | null;
  notificationPermission?: string | null;
}

function fieldColumns(f: DeviceFields): Partial<DeviceRow> {
  const cols: Partial<DeviceRow> = {};
  if (f.platform !== undefined) cols.platform = f.platform;
  if (f.vendor !== undefined) cols.vendor = f.vendor;
  if (f.token !== undefined) cols.token = f.token;
  if (f.voipToken !== undefined) cols.voip_token = f.voipToken;
  if (f.certificateId !== undefined) cols.certificate_id = f.certificateId;
  if (f.locale !== undefined) cols.locale = f.locale;
  if (f.timeZone !== undefined) cols.time_zone = f.timeZone;
  if (f.appVersion !== undefined) cols.app_version = f.appVersion;
  if (f.sdkVersion !== undefined) cols.sdk_version = f.sdkVersion;
  if (f.deviceModel !== undefined) cols.device_model = f.deviceModel;
  if (f.osVersion !== undefined) cols.os_version = f.osVersion;
  if (f.notificationPermission !== undefined) cols.notification_permission = f.notificationPermission;
  return cols;
}

export async function findDevice(db: Kysely<Database>, appId: number, registrationId: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('app_id', '=', appId).where('registration_id', '=', registrationId).executeTakeFirst();
}

export async function findDeviceByInstall(db: Kysely<Database>, appId: number, installId: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('app_id', '=', appId).where('install_id', '=', installId).executeTakeFirst();
}

export async function insertDevice(
  db: Kysely<Database>,
  row: Pick<DeviceRow, 'app_id' | 'registration_id' | 'install_id' | 'platform' | 'credential_hash'> & { fields: DeviceFields },
  now: number,
): Promise<boolean> {
  const inserted = await db
    .insertInto('devices')
    .values({
      app_id: row.app_id,
      registration_id: row.registration_id,
      install_id: row.install_id,
      user_id: null,
      platform: row.platform,
      vendor: null,
      token: null,
      voip_token: null,
      certificate_id: null,
      locale: null,
      time_zone: null,
      app_version: null,
      sdk_version: null,
      device_model: null,
      os_version: null,
      notification_permission: null,
      ...fieldColumns(row.fields),
      credential_hash: row.credential_hash,
      last_seq: 0,
      created_at: now,
      updated_at: now,
      last_seen_at: null,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('registration_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function updateDevice(
  db: Kysely<Database>,
  appId: number,
  registrationId: string,
  fields: DeviceFields,
  now: number,
  extra: Partial<Pick<DeviceRow, 'credential_hash' | 'user_id'>> = {},
): Promise<boolean> {
  const r = await db
    .updateTable('devices')
    .set({ ...fieldColumns(fields), ...extra, updated_at: now })
    .where('app_id', '=', appId)
    .where('registration_id', '=', registrationId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteDevice(db: Kysely<Database>, appId: number, registrationId: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await tx.deleteFrom('inbox').where('app_id', '=', appId).where('registration_id', '=', registrationId).execute();
    const r = await tx.deleteFrom('devices').where('app_id', '=', appId).where('registration_id', '=', registrationId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  });
}

export interface TargetDevice {
  registration_id: string;
  user_id: string | null;
  locale: string | null;
}

/**
 * Devices addressed by a list of accounts, each a UserID or a RegistrationID. Two indexed lookups
 * (by user, by RegistrationID) rather than one OR, which SQLite would answer by scanning the app.
 */
export async function findTargets(db: Kysely<Database>, appId: number, accounts: readonly string[]): Promise<TargetDevice[]> {
  if (accounts.length === 0) return [];
  const cols = ['registration_id', 'user_id', 'locale'] as const;
  const [byUser, byId] = await Promise.all([
    db.selectFrom('devices').select(cols).where('app_id', '=', appId).where('user_id', 'in', accounts).execute(),
    db.selectFrom('devices').select(cols).where('app_id', '=', appId).where('registration_id', 'in', accounts).execute(),
  ]);
  const out = new Map<string, TargetDevice>();
  for (const d of byUser) out.set(d.registration_id, d);
  for (const d of byId) out.set(d.registration_id, d);
  return [...out.values()];
}

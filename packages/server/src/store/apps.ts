import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { randomHex } from '../auth/secrets.js';

export interface App {
  sdkAppId: number;
  name: string;
  secretKey: string;
  appKey: string;
  adminIdentifiers: string[];
  createdAt: number;
}

type AppRow = Database['apps'];

function toApp(r: AppRow): App {
  return {
    sdkAppId: r.sdk_app_id,
    name: r.name,
    secretKey: r.secret_key,
    appKey: r.app_key,
    adminIdentifiers: JSON.parse(r.admin_identifiers) as string[],
    createdAt: r.created_at,
  };
}

export const DEFAULT_ADMIN = 'administrator';

export async function createApp(db: Kysely<Database>, name: string, now = Date.now()): Promise<App> {
  for (let attempt = 0; attempt < 10; attempt++) {
    // Same range as Tencent's SDKAppIDs, so ids look familiar and fit the clients' integer fields.
    const sdkAppId = 1_400_000_000 + crypto.randomInt(0, 300_000_000);
    const row: AppRow = {
      sdk_app_id: sdkAppId,
      name,
      secret_key: randomHex(32),
      app_key: randomHex(16),
      admin_identifiers: JSON.stringify([DEFAULT_ADMIN]),
      settings: '{}',
      created_at: now,
    };
    const inserted = await db.insertInto('apps').values(row).onConflict((oc) => oc.doNothing()).returning('sdk_app_id').executeTakeFirst();
    if (inserted) return toApp(row);
  }
  throw new Error('could not allocate an SDKAppID');
}

export async function listApps(db: Kysely<Database>): Promise<App[]> {
  const rows = await db.selectFrom('apps').selectAll().orderBy('created_at').execute();
  return rows.map(toApp);
}

export async function countApps(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('apps').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function findApp(db: Kysely<Database>, sdkAppId: number): Promise<App | undefined> {
  const row = await db.selectFrom('apps').selectAll().where('sdk_app_id', '=', sdkAppId).executeTakeFirst();
  return row ? toApp(row) : undefined;
}

/**
 * Apps are read on every request; they change rarely, so keep them for a few seconds in memory.
 * Misses are cached too, so a flood of requests for an unknown SDKAppID does not reach the store.
 */
export class AppDirectory {
  private cache = new Map<number, { app: App | undefined; until: number }>();
  constructor(private db: Kysely<Database>, private ttlMs = 5000) {}

  async get(sdkAppId: number): Promise<App | undefined> {
    const now = Date.now();
    const hit = this.cache.get(sdkAppId);
    if (hit && hit.until > now) return hit.app;
    const app = await findApp(this.db, sdkAppId);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(sdkAppId, { app, until: now + this.ttlMs });
    return app;
  }
}

/** The app's settings object (JSON in the row), {} when none. */
export async function getSettings(db: Kysely<Database>, sdkAppId: number): Promise<Record<string, unknown>> {
  const row = await db.selectFrom('apps').select('settings').where('sdk_app_id', '=', sdkAppId).executeTakeFirst();
  return row ? (JSON.parse(row.settings) as Record<string, unknown>) : {};
}

export async function putSettings(db: Kysely<Database>, sdkAppId: number, settings: Record<string, unknown>): Promise<void> {
  await db.updateTable('apps').set({ settings: JSON.stringify(settings) }).where('sdk_app_id', '=', sdkAppId).execute();
}

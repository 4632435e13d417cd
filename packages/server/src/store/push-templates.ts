import type { Kysely, Selectable } from 'kysely';
import type { Database, PushTemplatesTable } from './schema.js';
import { nextId } from './app-counters.js';

export type PushTemplateRow = Selectable<PushTemplatesTable>;

/** What a caller sets on a template; `contents` is JSON text. */
export interface PushTemplateFields {
  name: string;
  title: string;
  description: string;
  contents: string | null;
  ext: string | null;
}

/**
 * Templates read by pushes are kept this long, so a burst of pushes naming one template reads it
 * once. A change in this process is seen at once; in another process of a cluster within this time.
 */
const CACHE_MS = 1000;
const CACHE_MAX = 1000;
const cache = new WeakMap<Kysely<Database>, Map<string, { row: PushTemplateRow; until: number }>>();

function cacheOf(db: Kysely<Database>): Map<string, { row: PushTemplateRow; until: number }> {
  let c = cache.get(db);
  if (!c) cache.set(db, (c = new Map()));
  return c;
}

const key = (appId: number, n: number) => `${appId}:${n}`;

/** Stores a new template under the app's next number (1, 2, …; never one a deleted template had). */
export async function insertPushTemplate(db: Kysely<Database>, appId: number, f: PushTemplateFields, now: number): Promise<number> {
  const n = await nextId(db, appId, 'push_templates');
  await db.insertInto('push_templates').values({ app_id: appId, template_id: n, ...f, created_at: now, updated_at: now, deleted_at: null }).execute();
  return n;
}

/** Replaces a live template's fields; false when the app has no such template. */
export async function updatePushTemplate(db: Kysely<Database>, appId: number, n: number, f: PushTemplateFields, now: number): Promise<boolean> {
  cacheOf(db).delete(key(appId, n));
  const r = await db.updateTable('push_templates').set({ ...f, updated_at: now }).where('app_id', '=', appId).where('template_id', '=', n).where('deleted_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deletePushTemplate(db: Kysely<Database>, appId: number, n: number, now: number): Promise<boolean> {
  cacheOf(db).delete(key(appId, n));
  const r = await db.updateTable('push_templates').set({ deleted_at: now, updated_at: now }).where('app_id', '=', appId).where('template_id', '=', n).where('deleted_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The app's live templates, all of them or those numbered `ns`, in one query. */
export async function listPushTemplates(db: Kysely<Database>, appId: number, ns?: readonly number[]): Promise<PushTemplateRow[]> {
  if (ns && ns.length === 0) return [];
  let q = db.selectFrom('push_templates').selectAll().where('app_id', '=', appId).where('deleted_at', 'is', null);
  if (ns) q = q.where('template_id', 'in', [...ns]);
  return q.orderBy('template_id').execute();
}

/** One live template, for a push: from the brief cache, else one query. */
export async function readPushTemplate(db: Kysely<Database>, appId: number, n: number, now = Date.now()): Promise<PushTemplateRow | undefined> {
  const c = cacheOf(db);
  const hit = c.get(key(appId, n));
  if (hit && hit.until > now) return hit.row;
  const row = (await listPushTemplates(db, appId, [n]))[0];
  if (c.size >= CACHE_MAX) c.clear();
  // misses are not kept: a template made in another process must work at once
  if (row) c.set(key(appId, n), { row, until: now + CACHE_MS });
  else c.delete(key(appId, n));
  return row;
}

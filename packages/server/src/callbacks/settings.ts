import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { describeIssue } from '../api/zod-error.js';
import { apps, callbackOutbox, type Database } from '../store/index.js';

/** The app's callback: kept under `callback` in the app's settings JSON. */
export interface CallbackConfig {
  url: string;
  /** Signs each request (Sign, RequestTime) when set. */
  token?: string;
  /** Off keeps the URL and the rows waiting, and posts nothing. */
  enabled: boolean;
  /** Requests a second to this app's URL; absent = Herald's default. */
  maxPerSecond?: number;
  /** When it last changed (ms): a sender backing off from the old endpoint starts afresh. */
  updatedAt: number;
}

/** What an admin command or the CLI may change; left out = as it is. */
export interface CallbackPatch {
  url?: string;
  /** '' or null removes it; a value sent back masked keeps the stored one. */
  token?: string | null;
  enabled?: boolean;
  /** 0 = Herald's default. */
  maxPerSecond?: number;
}

/** Field rules shared by the admin command and the CLI. Tencent: a callback token has at most 128 characters (cloud.tencent.com/document/product/647/118333). */
export const CallbackFields = {
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2048),
  token: z.string().max(128, 'at most 128 characters'),
  maxPerSecond: z.number().int().min(0).max(100_000),
};

const Stored = z.object({
  url: CallbackFields.url,
  token: CallbackFields.token.optional(),
  enabled: z.boolean(),
  maxPerSecond: CallbackFields.maxPerSecond.min(1).optional(),
  updatedAt: z.number(),
});

const Patch = z.object({
  url: CallbackFields.url.optional(),
  token: CallbackFields.token.nullable().optional(),
  enabled: z.boolean().optional(),
  maxPerSecond: CallbackFields.maxPerSecond.optional(),
});

const MASK = '****';

/** Enough of a token to recognise it: its last four characters, and only when it is long enough to spare them. */
export function maskToken(token: string): string {
  return token.length >= 12 ? MASK + token.slice(-4) : MASK;
}

export async function readCallbackConfig(db: Kysely<Database> | Transaction<Database>, appId: number): Promise<CallbackConfig | undefined> {
  const r = Stored.safeParse((await apps.getSettings(db, appId)).callback);
  return r.success ? r.data : undefined;
}

export type SaveCallbackResult = { ok: true; config: CallbackConfig } | { ok: false; message: string };

/**
 * Applies a change to the app's callback. Setting a URL switches callbacks on unless `enabled`
 * says otherwise. Any change makes the app's waiting rows due at once: whatever failed was the
 * old endpoint's doing.
 */
export async function saveCallbackConfig(db: Kysely<Database>, appId: number, input: CallbackPatch, now = Date.now()): Promise<SaveCallbackResult> {
  const parsed = Patch.safeParse(input);
  if (!parsed.success) return { ok: false, message: describeIssue(parsed.error) };
  const patch = parsed.data;
  const settings = await apps.getSettings(db, appId);
  const old = Stored.safeParse(settings.callback).data;
  const url = patch.url ?? old?.url;
  const enabled = patch.enabled ?? (patch.url !== undefined ? true : (old?.enabled ?? false));
  if (url === undefined) return { ok: false, message: enabled ? 'Url: a callback URL is needed to switch callbacks on' : 'Url: no callback URL is set' };
  const token = patch.token === undefined || patch.token?.startsWith(MASK) ? old?.token : patch.token || undefined;
  const maxPerSecond = patch.maxPerSecond === undefined ? old?.maxPerSecond : patch.maxPerSecond || undefined;
  const config: CallbackConfig = { url, enabled, updatedAt: now, ...(token ? { token } : {}), ...(maxPerSecond ? { maxPerSecond } : {}) };
  await apps.putSettings(db, appId, { ...settings, callback: config });
  await callbackOutbox.resumePending(db, appId, now);
  return { ok: true, config };
}

/** Whether the app's events should be stored and posted now. */
export const isActive = (c: CallbackConfig | undefined): c is CallbackConfig => c !== undefined && c.enabled;

/**
 * Each app's callback config, kept a few seconds: the statistics path asks once per batch and the
 * sender once per request. Concurrent misses share one read.
 */
export class CallbackSettings {
  private cache = new Map<number, { value: Promise<CallbackConfig | undefined>; until: number; settled: boolean }>();

  constructor(private db: Kysely<Database>, private ttlMs = 3000) {}

  /**
   * `via`: the transaction to read in on a miss (see CallbackOutbox.wants). A caller in a
   * transaction never waits on a read still in flight outside it: on SQLite that read waits for
   * the transaction's connection.
   */
  get(appId: number, via?: Kysely<Database> | Transaction<Database>): Promise<CallbackConfig | undefined> {
    const now = Date.now();
    const hit = this.cache.get(appId);
    if (hit && hit.until > now && (hit.settled || !via)) return hit.value;
    const value = readCallbackConfig(via ?? this.db, appId);
    if (this.cache.size > 10_000) this.cache.clear();
    const entry = { value, until: now + this.ttlMs, settled: false };
    this.cache.set(appId, entry);
    value.then(
      () => (entry.settled = true),
      () => this.cache.get(appId) === entry && this.cache.delete(appId),
    );
    return value;
  }

  forget(appId: number): void {
    this.cache.delete(appId);
  }
}

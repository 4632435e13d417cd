import { z } from 'zod';
import { UserSigCache } from '../../auth/usersig-cache.js';
import type { App, AppDirectory } from '../../store/index.js';
import { TimCode, TimError } from './envelope.js';

/** The query string of every admin call (reference §1.1). */
const AdminQuery = z.object({
  sdkappid: z.string().optional(),
  identifier: z.string().optional(),
  usersig: z.string().optional(),
  random: z.string().regex(/^\d{1,10}$/, 'random must be an unsigned 32-bit integer').refine((v) => Number(v) <= 0xffffffff, 'random must be an unsigned 32-bit integer').optional(),
  contenttype: z.literal('json', { error: 'contenttype must be json' }).optional(),
});

const userSigs = new UserSigCache();

export interface AdminCaller {
  app: App;
  identifier: string;
}

/** Checks SDKAppID, UserSig and admin rights, in Tencent's order, answering with Tencent's codes. */
export async function authenticateAdmin(query: unknown, apps: AppDirectory, now = Date.now()): Promise<AdminCaller> {
  const q = AdminQuery.safeParse(query ?? {});
  if (!q.success) throw new TimError(TimCode.httpParse, q.error.issues[0]?.message ?? 'invalid query string');
  const { sdkappid, identifier, usersig } = q.data;
  if (!sdkappid) throw new TimError(TimCode.sdkAppIdMissing, 'sdkappid is missing from the query string');
  if (!/^\d{1,12}$/.test(sdkappid)) throw new TimError(TimCode.sdkAppIdInvalid, 'sdkappid is not a valid SDKAppID');
  const app = await apps.get(Number(sdkappid));
  if (!app) throw new TimError(TimCode.sdkAppIdNotFound, `SDKAppID ${sdkappid} does not exist`);
  if (!identifier) throw new TimError(TimCode.accountOrSigInUrl, 'identifier is missing from the query string');
  if (!usersig) throw new TimError(TimCode.sigParse, 'usersig is missing from the query string');
  const bad = userSigs.verify(usersig, app.sdkAppId, identifier, app.secretKey, now);
  if (bad) throw new TimError(bad.code, bad.reason);
  return { app, identifier };
}

export function requireAdmin(caller: AdminCaller, code: number): void {
  if (!caller.app.adminIdentifiers.includes(caller.identifier)) {
    throw new TimError(code, `${caller.identifier} is not an App admin`);
  }
}

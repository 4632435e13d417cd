import { z } from 'zod';
import { UserSigCache } from '../../auth/usersig-cache.js';
import { retryAfterSeconds, type FailureGuard, type Refusal } from '../../limits/index.js';
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

/** Where a call comes from, and the guard counting failed authentications. */
export interface AuthSource {
  guard: FailureGuard;
  address: string;
}

/**
 * Checks SDKAppID, UserSig and admin rights, in Tencent's order, answering with Tencent's codes.
 * Unknown SDKAppIDs, bad UserSigs and non-admin identifiers count as failures of the source; past
 * its bound the source is answered 70050 before anything is checked. A malformed query is not
 * counted: it is a client bug, best answered with its own code.
 */
export async function authenticateAdmin(query: unknown, apps: AppDirectory, adminCode: number, source: AuthSource, now = Date.now()): Promise<AdminCaller> {
  const q = AdminQuery.safeParse(query ?? {});
  if (!q.success) throw new TimError(TimCode.httpParse, q.error.issues[0]?.message ?? 'invalid query string');
  const { sdkappid, identifier, usersig } = q.data;
  if (!sdkappid) throw new TimError(TimCode.sdkAppIdMissing, 'sdkappid is missing from the query string');
  if (!/^\d{1,12}$/.test(sdkappid)) throw new TimError(TimCode.sdkAppIdInvalid, 'sdkappid is not a valid SDKAppID');
  // Refused before the app is looked up: a limited address costs no query, whatever SDKAppIDs it makes up.
  const refused = await source.guard.refusal(source.address, Number(sdkappid));
  if (refused) throw new TimError(TimCode.verifyRateLimited, limitedMessage(refused));
  const app = await apps.get(Number(sdkappid));
  try {
    if (!app) throw new TimError(TimCode.sdkAppIdNotFound, `SDKAppID ${sdkappid} does not exist`);
    if (!identifier) throw new TimError(TimCode.accountOrSigInUrl, 'identifier is missing from the query string');
    if (!usersig) throw new TimError(TimCode.sigParse, 'usersig is missing from the query string');
    const bad = userSigs.verify(usersig, app.sdkAppId, identifier, app.secretKey, now);
    if (bad) throw new TimError(bad.code, bad.reason);
    if (!app.adminIdentifiers.includes(identifier)) throw new TimError(adminCode, `${identifier} is not an App admin`);
    return { app, identifier };
  } catch (err) {
    await source.guard.failed(source.address, app?.sdkAppId);
    throw err;
  }
}

function limitedMessage(r: Refusal): string {
  const who = r.scope === 'address' ? 'from this address' : 'for this SDKAppID from many addresses';
  return `too many failed authentications ${who}; retry in ${retryAfterSeconds(r)} s`;
}

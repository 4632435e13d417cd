import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { z } from 'zod';

/**
 * TLS-Sig v2 UserSig, as Tencent's reference generators make it (reference §1.2):
 * HMAC-SHA256 over "TLS.identifier:…\nTLS.sdkappid:…\nTLS.time:…\nTLS.expire:…\n[TLS.userbuf:…\n]",
 * put in a JSON document, zlib-deflated, base64 with `+/=` swapped for `*-_`.
 */

export type UserSigFailure =
  | { code: 70003; reason: string } // cannot be parsed
  | { code: 70014; reason: string } // signed for another SDKAppID
  | { code: 70013; reason: string } // signed for another identifier
  | { code: 70009; reason: string } // signature does not match the app's key
  | { code: 70001; reason: string }; // expired

const SigDocument = z.object({
  'TLS.ver': z.literal('2.0'),
  'TLS.identifier': z.string().min(1),
  'TLS.sdkappid': z.union([z.number().int(), z.string().regex(/^\d+$/)]),
  'TLS.time': z.union([z.number().int(), z.string().regex(/^\d+$/)]),
  'TLS.expire': z.union([z.number().int(), z.string().regex(/^\d+$/)]),
  'TLS.sig': z.string().min(1),
  'TLS.userbuf': z.string().optional(),
});

function toStdBase64(s: string): string {
  return s.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
}

function toSigBase64(b: Buffer): string {
  return b.toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

function hmac(key: string, identifier: string, sdkAppId: string, time: string, expire: string, userbuf?: string): Buffer {
  let content = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbuf !== undefined) content += `TLS.userbuf:${userbuf}\n`;
  return crypto.createHmac('sha256', key).update(content).digest();
}

export function genUserSig(sdkAppId: number, key: string, identifier: string, expireSeconds = 180 * 86400, now = Date.now()): string {
  const time = Math.floor(now / 1000);
  const sig = hmac(key, identifier, String(sdkAppId), String(time), String(expireSeconds)).toString('base64');
  const doc = {
    'TLS.ver': '2.0',
    'TLS.identifier': identifier,
    'TLS.sdkappid': sdkAppId,
    'TLS.expire': expireSeconds,
    'TLS.time': time,
    'TLS.sig': sig,
  };
  return toSigBase64(zlib.deflateSync(Buffer.from(JSON.stringify(doc))));
}

/** Checks a UserSig for (sdkAppId, identifier) against the app's secret key; null when valid. */
export function verifyUserSig(userSig: string, sdkAppId: number, identifier: string, key: string, now = Date.now()): UserSigFailure | null {
  return checkUserSig(userSig, sdkAppId, identifier, key, now).failure;
}

/** As verifyUserSig, and the time (ms) the UserSig stops being valid. */
export function checkUserSig(userSig: string, sdkAppId: number, identifier: string, key: string, now = Date.now()): { failure: UserSigFailure | null; expiresAt: number } {
  const failure = (f: UserSigFailure) => ({ failure: f, expiresAt: 0 });
  let doc: z.infer<typeof SigDocument>;
  try {
    if (userSig.length === 0 || userSig.length > 4096) throw new Error('length');
    const raw = zlib.inflateSync(Buffer.from(toStdBase64(userSig), 'base64'), { maxOutputLength: 16384 });
    doc = SigDocument.parse(JSON.parse(raw.toString('utf8')));
  } catch {
    return failure({ code: 70003, reason: 'UserSig could not be parsed' });
  }
  const sigAppId = String(doc['TLS.sdkappid']);
  if (sigAppId !== String(sdkAppId)) return failure({ code: 70014, reason: 'UserSig was made for another SDKAppID' });
  if (doc['TLS.identifier'] !== identifier) return failure({ code: 70013, reason: 'identifier does not match the UserSig' });
  const time = String(doc['TLS.time']);
  const expire = String(doc['TLS.expire']);
  const expected = hmac(key, doc['TLS.identifier'], sigAppId, time, expire, doc['TLS.userbuf']);
  const given = Buffer.from(doc['TLS.sig'], 'base64');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    return failure({ code: 70009, reason: 'UserSig verification failed: signed with another key or altered' });
  }
  const expiresAt = (Number(time) + Number(expire)) * 1000;
  if (expiresAt < now) return failure({ code: 70001, reason: 'UserSig expired' });
  return { failure: null, expiresAt };
}

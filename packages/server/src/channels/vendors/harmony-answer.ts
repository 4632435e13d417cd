import { z } from 'zod';
import type { VendorResult, VendorTarget } from '../vendor.js';
import type { Answer } from '../net/retry.js';
import type { VendorResponse } from '../net/http-post.js';
import { certificateRefused, refusedAuth } from './refused-credentials.js';
import { readPushKit } from './push-kit-answer.js';

/**
 * HarmonyOS Push Kit v3's answers, as the reference "push-scenariozed-api-response" (场景化消息,
 * 响应参数) documents them: `{code, msg, requestId}`, and for 80100000 (some tokens refused) and
 * 80300007 (all refused) a `msg` that is a JSON string naming each refused token under its reason:
 * `{"illegalTokens": {"tokenFormatError": ["…"]}, "success": 1, "failure": 1}`.
 */
const Refused = z.object({ illegalTokens: z.record(z.string(), z.array(z.string())) });

/** What to check when HarmonyOS refuses the certificate's JWT (80200001's documented causes). */
export const FIX_JWT = "check the certificate's projectId and serviceAccount (key_id, private_key, sub_account): the key must belong to the app's project";

/** 80300007 naming no token, on a certificate that has never worked. */
const UNNAMED = "every token was refused, none named, and this certificate has never had a send accepted: check projectId and the app's settings in AppGallery Connect";

/**
 * What each documented reason says of the tokens listed under it:
 * - `token`: the token itself cannot be used (malformed; a third-party proxy token): dead;
 * - `project`: the token's app is not in the certificate's project (or the device moved to
 *   HarmonyOS NEXT and never fetched a new token): dead once the certificate is known to work,
 *   else the certificate names the wrong project;
 * - `app`: the app lacks a right, is penalised or not created: the certificate's settings.
 * Any other reason (a country not served, an image verified for another push-type, …) refuses
 * this message, not the token.
 */
const REASONS: Record<string, { kind: 'token' | 'project' | 'app'; fix: string }> = {
  tokenFormatError: { kind: 'token', fix: 'the token is malformed' },
  tokenPlatformNotSupport: { kind: 'token', fix: 'a third-party proxy token, which Push Kit does not take' },
  noRight: { kind: 'project', fix: "the token's app is not in the certificate's project: check projectId, or the device needs a new token" },
  noPushTypeRight: { kind: 'app', fix: 'the app has not been granted the right for this push-type: apply for it in AppGallery Connect' },
  disableSendHuaweiMsgBecauseOfPenalty: { kind: 'app', fix: 'the app is penalised: resolve the violation in AppGallery Connect' },
  appinfoError: { kind: 'app', fix: "the app is not created in the certificate's project: check AppGallery Connect and projectId" },
  noRightToSendThisLiveNotificationEvent: { kind: 'app', fix: 'the app has not been granted this live view event' },
};

/**
 * One token's outcome from its reason. In a partial answer (80100000) the request was taken for
 * other tokens, so the certificate works: an app-wide reason is then only this token's failure,
 * never a stop.
 */
function byReason(t: VendorTarget, reason: string, code: number, partial: boolean, proven: boolean): VendorResult {
  const known = REASONS[reason];
  const info = `${reason}${known ? `: ${known.fix}` : ''}`;
  const as = (outcome: 'dead' | 'failed' | 'certificate'): VendorResult => ({ registrationId: t.registrationId, outcome, code, info });
  switch (known?.kind) {
    case 'token':
      return as('dead');
    case 'project':
      return as(partial || proven ? 'dead' : 'certificate');
    case 'app':
      return as(partial ? 'failed' : 'certificate');
    default:
      return as('failed');
  }
}

/** The tokens named in `msg`, each with its reason; empty when msg names none. */
function refusedTokens(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const parsed = Refused.safeParse(JSON.parse(msg));
    if (parsed.success) for (const [reason, tokens] of Object.entries(parsed.data.illegalTokens)) for (const t of tokens) out.set(t, reason);
  } catch {
    // not JSON: no token named
  }
  return out;
}

/**
 * Sorts a v3 answer (push-scenariozed-api-response):
 * - sent: 80000000; in 80100000 every token not named;
 * - 80100000 and 80300007: each named token by its reason (above); 80300007 naming none is read as
 *   the certificate's fault before it has worked, and as a failure after;
 * - certificate (stopped, tokens kept): 80300002 (push not enabled, or projectId not the app's
 *   project), 80300037 (penalty), a JWT refused again once signed afresh (80200001, 80200005, 401);
 * - retry later: 81000001 (internal error), 502, 503 (traffic control) and other 5xx;
 * - failed (token kept): anything else (80100001/80100003 bad field, 80100022 image not verified,
 *   80300008 too big, 80300036 a JWT valid over a day, …).
 */
export function harmonyAnswer(res: VendorResponse, part: readonly VendorTarget[], how: { fresh: boolean; proven: boolean }): Promise<Answer<VendorResult[]>> {
  return readPushKit(res, part, how.fresh, FIX_JWT, ({ raw, code, info }, all) => {
    switch (raw) {
      case '80100000':
      case '80300007': {
        const partial = raw === '80100000';
        const refused = refusedTokens(info);
        if (!partial && refused.size === 0) return how.proven ? all({ outcome: 'failed', code, info }) : { done: certificateRefused(part, code, info, UNNAMED) };
        return {
          done: part.map((t): VendorResult => {
            const reason = refused.get(t.token);
            if (reason !== undefined) return byReason(t, reason, code, partial, how.proven);
            return partial ? { registrationId: t.registrationId, outcome: 'sent' } : { registrationId: t.registrationId, outcome: 'failed', code, info: 'all the tokens are invalid' };
          }),
        };
      }
      case '80300002':
        return { done: certificateRefused(part, code, info, 'enable Push Kit for the project in AppGallery Connect, and check that projectId is the project of the app') };
      case '80300037':
        return { done: certificateRefused(part, code, info, 'the app is penalised: resolve the violation in AppGallery Connect') };
      case '80200001':
      case '80200005':
        return refusedAuth(part, how.fresh, code, info, FIX_JWT);
    }
    return undefined;
  });
}

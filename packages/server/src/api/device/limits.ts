import type { FastifyReply, FastifyRequest } from 'fastify';
import { retryAfterSeconds, type FailureGuard, type Refusal, type RequestLimit } from '../../limits/index.js';

/** The device API's bounds: failed app keys and credentials, and registrations. */
export interface DeviceLimits {
  auth: FailureGuard;
  registrations: RequestLimit;
}

/** 429 with Retry-After and the protocol's error body (docs/protocol.md §2). */
export function sendRateLimited(reply: FastifyReply, refusal: Refusal, what: string): FastifyReply {
  const seconds = retryAfterSeconds(refusal);
  const who = refusal.scope === 'address' ? 'from this address' : 'for this app';
  return reply
    .code(429)
    .header('retry-after', String(seconds))
    .send({ error: { code: 'rate_limited', message: `too many ${what} ${who}; retry in ${seconds} s` } });
}

/** The SDKAppID a request claims, if its header is a plain number. */
export function claimedAppId(req: FastifyRequest): number | undefined {
  const v = req.headers['x-herald-sdkappid'];
  return typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : undefined;
}

/** An `onRequest` hook: a source past its bound of failed authentications is refused before its body is read. */
export function refuseFailingSources(guard: FailureGuard) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const refused = await guard.refusal(req.ip, claimedAppId(req));
    if (refused) await sendRateLimited(reply, refused, 'failed authentications');
  };
}

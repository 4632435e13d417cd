import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Who may read /metrics. With a token: any caller that sends `Authorization: Bearer <token>`
 * (Prometheus's `authorization` scrape setting). Without one: only requests made on this machine
 * straight to Herald, that is from a loopback address and with no forwarding header, so that a
 * reverse proxy on the same host does not open it to the internet.
 */
export function metricsAccess(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected) {
      const given = req.headers.authorization;
      // Compared as digests, in constant time, so the answer's timing does not reveal the token.
      if (given !== undefined && timingSafeEqual(digest(given), expected)) return;
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .send({ error: { code: 'unauthorized', message: 'send Authorization: Bearer <HERALD_METRICS_TOKEN>' } });
      return;
    }
    if (isLoopback(req.socket.remoteAddress) && !forwarded(req)) return;
    await reply.code(403).send({ error: { code: 'forbidden', message: 'without HERALD_METRICS_TOKEN, /metrics answers only direct requests from this machine' } });
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function forwarded(req: FastifyRequest): boolean {
  const h = req.headers;
  return h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined;
}

import { Agent, request } from 'undici';

/** Keep-alive connections to the apps' backends, apart from the vendors' pool so neither can crowd out the other. */
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

export type PostResult = { ok: true } | { ok: false; error: string };

/**
 * POSTs one callback body. Any 2xx is delivered: the reply to an after-the-event callback changes
 * nothing (Tencent's documented reply is `{"ActionStatus":"OK",…}`, and a backend answering 204
 * has received the events as well). Anything else, a connection error or no answer within the
 * signal's timeout is a failure to try again. Redirects are not followed.
 */
export async function postCallback(url: string, body: string, signal: AbortSignal): Promise<PostResult> {
  try {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: agent, signal });
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
      return { ok: true };
    }
    const text = (await res.body.text()).slice(0, 200);
    return { ok: false, error: `HTTP ${res.statusCode}${text ? `: ${text}` : ''}` };
  } catch (err) {
    if (signal.aborted) return { ok: false, error: signal.reason instanceof Error && signal.reason.name === 'TimeoutError' ? 'no answer in time' : 'aborted' };
    return { ok: false, error: (err as Error).message || String(err) };
  }
}

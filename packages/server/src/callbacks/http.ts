import { Agent, request } from 'undici';

/** Keep-alive connections to the apps' backends, apart from the vendors' pool so neither can crowd out the other. */
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

export type PostResult = { ok: true } | { ok: false; error: string };

/**
 * POSTs one callback body. Any 2xx is delivered: the reply to an after-the-event callback changes
 * nothing (Tencent's documented reply is `{"ActionStatus":"OK",…}`, and a backend answering 204
 * has received the events as well). Anything else, a connection error or no answer within
 * `timeoutMs` is a failure to try again; `stop` aborts it as well. Redirects are not followed.
 */
export async function postCallback(url: string, body: string, timeoutMs: number, stop: AbortSignal): Promise<PostResult> {
  // A timer of our own rather than AbortSignal.timeout(): inside AbortSignal.any() on Node 20 a
  // timeout signal nothing else holds can be garbage collected before it fires (nodejs/node#57736),
  // and the request then waits for as long as the backend does.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new DOMException('no answer in time', 'TimeoutError')), timeoutMs);
  const signal = AbortSignal.any([timeout.signal, stop]);
  try {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: agent, signal });
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
      return { ok: true };
    }
    const text = (await res.body.text()).slice(0, 200);
    return { ok: false, error: `HTTP ${res.statusCode}${text ? `: ${text}` : ''}` };
  } catch (err) {
    if (signal.aborted) return { ok: false, error: timeout.signal.aborted ? 'no answer in time' : 'aborted' };
    return { ok: false, error: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

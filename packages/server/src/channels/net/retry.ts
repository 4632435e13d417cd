/**
 * One vendor request with bounded retries, shared by every adapter. The request classifies the
 * vendor's answer itself: `done` ends it; `later` (429, 503, busy codes) waits, honouring the
 * vendor's Retry-After, and tries again; `auth` (an access token or JWT the vendor refused) asks
 * for fresh credentials and tries again once. A network error counts as `later`.
 */
export type Answer<T> = { done: T } | { later: string; retryAfter?: string | null } | { auth: string };

export const MAX_ATTEMPTS = 3;

export async function withRetries<T>(request: (freshAuth: boolean) => Promise<Answer<T>>, giveUp: (info: string, code: number) => T): Promise<T> {
  let fresh = false;
  let refreshed = false;
  let last = '';
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let a: Answer<T>;
    try {
      a = await request(fresh);
    } catch (err) {
      a = { later: `network: ${(err as Error).message}` };
    }
    fresh = false;
    if ('done' in a) return a.done;
    if ('auth' in a) {
      last = a.auth;
      if (refreshed) break;
      refreshed = true;
      fresh = true;
      attempt--; // a credential refresh is not a delivery attempt
      continue;
    }
    last = a.later;
    if (attempt < MAX_ATTEMPTS - 1) await new Promise((r) => setTimeout(r, retryAfterMs(a.retryAfter ?? null, attempt)));
  }
  // the vendor's status or code leads the text of a refusal; a network error has none
  return giveUp(last, Number(/^-?\d+/.exec(last)?.[0] ?? 0));
}

/** Retry-After in seconds (or an HTTP date), capped at 10 s; otherwise 200 ms doubling. */
export function retryAfterMs(header: string | null, attempt: number): number {
  if (header) {
    const s = Number(header);
    const ms = Number.isFinite(s) ? s * 1000 : Date.parse(header) - Date.now();
    if (Number.isFinite(ms)) return Math.min(10_000, Math.max(0, ms));
  }
  return 200 * 2 ** attempt;
}

import { httpPost } from './http-post.js';
/**
 * Vendor OAuth access tokens (FCM, Huawei, …), cached per credential until a minute before they
 * expire; `fresh` forces a new one after the vendor refused the cached token. Concurrent callers
 * share one token request.
 */
export class AccessTokens {
  private cache = new Map<string, Promise<{ token: string; until: number }>>();

  async get(key: string, fresh: boolean, request: () => Promise<{ token: string; expiresIn: number }>): Promise<string> {
    const hit = this.cache.get(key);
    if (hit && !fresh) {
      const t = await hit.catch(() => null);
      if (t && t.until > Date.now()) return t.token;
    }
    const p = request().then((r) => ({ token: r.token, until: Date.now() + (r.expiresIn - 60) * 1000 }));
    this.cache.set(key, p);
    p.catch(() => this.cache.delete(key));
    return (await p).token;
  }
}

/** How a token request goes out: fetch by default, or a vendor's HTTP/2 pool. */
export type FormPost = (url: string, body: string) => Promise<{ status: number; text: string }>;

const fetchPost: FormPost = async (url, body) => {
  const res = await httpPost(url, { 'content-type': 'application/x-www-form-urlencoded' }, body);
  return { status: res.status, text: await res.text() };
};

/** POSTs an OAuth token form and reads `{access_token, expires_in}` (RFC 6749 §5.1). */
export async function tokenRequest(url: string, form: Record<string, string>, vendor: string, post: FormPost = fetchPost): Promise<{ token: string; expiresIn: number }> {
  const res = await post(url, new URLSearchParams(form).toString());
  let body: { access_token?: string; expires_in?: number; error_description?: string } = {};
  try {
    body = JSON.parse(res.text) as typeof body;
  } catch {
    // not JSON: reported below by status
  }
  if (res.status !== 200 || !body.access_token) throw new Error(`${vendor} token: ${res.status} ${body.error_description ?? ''}`);
  return { token: body.access_token, expiresIn: body.expires_in ?? 3600 };
}

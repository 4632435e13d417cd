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

/** POSTs an OAuth token form and reads `{access_token, expires_in}` (RFC 6749 §5.1). */
export async function tokenRequest(url: string, form: Record<string, string>, vendor: string): Promise<{ token: string; expiresIn: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`${vendor} token: ${res.status} ${body.error_description ?? ''}`);
  return { token: body.access_token, expiresIn: body.expires_in ?? 3600 };
}

import { resultForAll, type CertificateCheck, type VendorResult, type VendorTarget } from '../vendor.js';
import type { Answer } from '../net/retry.js';
import { tokenRequest } from '../net/access-tokens.js';
import { httpPost } from '../net/http-post.js';

/**
 * The vendor refused the certificate's credentials themselves (its token endpoint said no, or a
 * key cannot sign): not a network fault to retry, but a certificate to stop.
 */
export class CredentialsRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An OAuth 2.0 client-credentials access token (RFC 6749 §4.4), as Huawei and Honor issue them. A
 * 4xx answer other than 429 refuses the client id or secret (RFC 6749 §5.2: invalid_client) and
 * throws CredentialsRefused; anything else (5xx, 429, the network) throws a plain error, retried.
 */
export async function clientCredentialsToken(url: string, clientId: string, clientSecret: string, vendor: string): Promise<{ token: string; expiresIn: number }> {
  let status = 0;
  try {
    return await tokenRequest(url, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }, vendor, async (u, body) => {
      const res = await httpPost(u, { 'content-type': 'application/x-www-form-urlencoded' }, body);
      status = res.status;
      return { status, text: await res.text() };
    });
  } catch (err) {
    if (status >= 400 && status < 500 && status !== 429) throw new CredentialsRefused(status, `${vendor} refused the client credentials (${(err as Error).message})`);
    throw err;
  }
}

/** Every device of the part lost because the certificate is wrong; `fix` says what to check. */
export const certificateRefused = (part: readonly VendorTarget[], code: number, info: string, fix: string): VendorResult[] =>
  resultForAll(part, { outcome: 'certificate', code, info: `${info}: ${fix}` });

/**
 * A refused access token or JWT: asked afresh once (retry.ts `auth`); refused again when fresh,
 * the credentials themselves are wrong and the certificate stops.
 */
export function refusedAuth(part: readonly VendorTarget[], fresh: boolean, code: number, info: string, fix: string): Answer<VendorResult[]> {
  return fresh ? { done: certificateRefused(part, code, info, fix) } : { auth: `${code} ${info}` };
}

/** A request attempt whose credentials the vendor may refuse outright: that refusal stops the certificate. */
export function stopOnRefusal(part: readonly VendorTarget[], fix: string, attempt: (fresh: boolean) => Promise<Answer<VendorResult[]>>): (fresh: boolean) => Promise<Answer<VendorResult[]>> {
  return async (fresh) => {
    try {
      return await attempt(fresh);
    } catch (err) {
      if (err instanceof CredentialsRefused) return { done: certificateRefused(part, err.code, err.message, fix) };
      throw err;
    }
  };
}

/** A certificate check that asks for a fresh access token: issued is `ok`; refused says what to fix. */
export async function tokenCheck(issue: () => Promise<string>, issued: string, fix: string): Promise<CertificateCheck> {
  try {
    await issue();
    return { ok: true, info: issued };
  } catch (err) {
    if (err instanceof CredentialsRefused) return { ok: false, code: err.code, info: `${err.message}: ${fix}` };
    return { ok: false, code: 0, info: `no verdict: the vendor could not be asked (${(err as Error).message})` };
  }
}

import crypto from 'node:crypto';

/**
 * Receipt URLs carry a signature made with the app's secret key, so only a vendor that was given
 * the URL (in a push, or by the operator in its console) can report deliveries for that app.
 */
function signature(secretKey: string, vendor: string, appId: number, certId: number): string {
  return crypto.createHmac('sha256', secretKey).update(`receipts/${vendor}/${appId}/${certId}`).digest('base64url').slice(0, 22);
}

export function receiptPath(secretKey: string, vendor: string, appId: number, certId: number): string {
  return `/v1/receipts/${vendor}/${appId}/${certId}/${signature(secretKey, vendor, appId, certId)}`;
}

export function receiptSignatureValid(secretKey: string, vendor: string, appId: number, certId: number, sig: string): boolean {
  const want = Buffer.from(signature(secretKey, vendor, appId, certId));
  const got = Buffer.from(sig);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

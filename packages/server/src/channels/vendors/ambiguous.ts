import type { VendorResult } from '../vendor.js';

/**
 * A vendor's answer about one device, with whether it is ambiguous: some refusals mean either
 * "this token belongs to another project or key" or "the certificate is wrong" (FCM
 * SENDER_ID_MISMATCH, a Web Push 403 for a subscription restricted to another VAPID key).
 */
export interface Classified {
  result: VendorResult;
  /** A `certificate` outcome that only holds if nothing else in the same call was taken. */
  ambiguous?: boolean;
}

/**
 * An answer that is either about the token or about the certificate. Once the certificate has had
 * a send taken, its credentials work, so the answer is about this token: a loss, token kept (it may
 * work through the right certificate). Before, it stops the certificate, unless another device of
 * the same call was taken (`settleAmbiguous`).
 */
export function tokenOrCertificate(registrationId: string, code: number, info: string, proven: boolean): Classified {
  if (proven) return { result: { registrationId, outcome: 'failed', code, info: `${info}; token kept: this certificate has had sends taken, so the answer is about this device's token` } };
  return { result: { registrationId, outcome: 'certificate', code, info }, ambiguous: true };
}

/** A call's results: where some device was taken, the credentials work, and its ambiguous refusals are about their tokens. */
export function settleAmbiguous(all: readonly Classified[]): VendorResult[] {
  const taken = all.some((c) => c.result.outcome === 'sent');
  return all.map(({ result, ambiguous }) =>
    taken && ambiguous && result.outcome === 'certificate' ? { ...result, outcome: 'failed', info: `${result.info}; token kept: other devices of the same call were taken, so the answer is about this device's token` } : result,
  );
}

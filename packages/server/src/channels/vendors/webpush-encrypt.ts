import webpush from 'web-push';

/** One message to encrypt for one subscription (RFC 8291): the subscription's keys and the plaintext. */
export interface EncryptJob {
  p256dh: string;
  auth: string;
  payload: string;
}

/** The aes128gcm body (RFC 8188 header and one record), or why the subscription's keys cannot be used. */
export type EncryptResult = { body: Uint8Array } | { error: string };

/**
 * Encrypts a batch of messages. The `web-push` library does the RFC 8291 work; each message gets
 * its own ECDH key pair and salt, as the RFC requires (§3.1), which makes this the costliest
 * step of a Web Push send: it runs on a worker thread (webpush-encryption.ts).
 */
export function encryptAll(jobs: readonly EncryptJob[]): EncryptResult[] {
  return jobs.map((j) => {
    try {
      return { body: new Uint8Array(webpush.encrypt(j.p256dh, j.auth, j.payload, 'aes128gcm').cipherText) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  });
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { encryptAll, type EncryptJob, type EncryptResult } from './webpush-encrypt.js';

/** Encrypts Web Push messages in batches. */
export interface WebPushEncryption {
  encrypt(jobs: readonly EncryptJob[]): Promise<EncryptResult[]>;
  close(): Promise<void>;
}

/**
 * Runs the encryption on `threads` worker threads (Piscina), so that the two elliptic-curve
 * operations every message needs do not hold up the event loop that serves the gateway and the
 * other vendors. With 0 threads it runs inline. Idle threads do not keep the process alive.
 */
export function webPushEncryption(threads: number): WebPushEncryption {
  if (threads <= 0) return { encrypt: async (jobs) => encryptAll(jobs), close: async () => {} };
  // the worker is the .ts source under tsx and the compiled .js in dist
  const ext = path.extname(fileURLToPath(import.meta.url));
  const pool = new Piscina<EncryptJob[], EncryptResult[]>({
    filename: new URL(`./webpush-encrypt-worker${ext}`, import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 30_000,
  });
  return {
    encrypt: (jobs) => (jobs.length === 0 ? Promise.resolve([]) : pool.run(jobs as EncryptJob[])),
    close: () => pool.destroy(),
  };
}

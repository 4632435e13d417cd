/** The worker-thread entry of the Web Push encryption pool (webpush-encryption.ts). */
import { encryptAll, type EncryptJob, type EncryptResult } from './webpush-encrypt.js';

export default function run(jobs: EncryptJob[]): EncryptResult[] {
  return encryptAll(jobs);
}

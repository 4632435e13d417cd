import crypto from 'node:crypto';

let counter = 0;

/**
 * TaskIds shaped like Tencent's (`batch_667015d4_537529d8_2000005e80aa873_d03ac87_56f5e750`,
 * reference §2.2): kind prefix, hex seconds, hex SDKAppID, a per-process counter, random bits and
 * the request's MsgRandom, so ids are unique across processes and sort roughly by time.
 */
export function newTaskId(kind: 'batch' | 'push', sdkAppId: number, msgRandom: number, now = Date.now()): string {
  counter = (counter + 1) >>> 0;
  const parts = [
    Math.floor(now / 1000).toString(16),
    sdkAppId.toString(16),
    counter.toString(16),
    crypto.randomBytes(6).toString('hex'),
    (msgRandom >>> 0).toString(16),
  ];
  return kind === 'batch' ? `batch_${parts.join('_')}` : parts.join('_');
}

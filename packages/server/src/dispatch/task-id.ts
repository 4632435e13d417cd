import crypto from 'node:crypto';

let counter = 0;

/**
 * TaskIds (and chat PushIDs) shaped like Tencent's (`batch_667015d4_537529d8_2000005e80aa873_d03ac87_56f5e750`,
 * reference §2.2): kind prefix, hex seconds, hex SDKAppID, a per-process counter, random bits and
 * the request's MsgRandom, so ids are unique across processes and sort roughly by time.
 */
export function newTaskId(kind: TaskKind, sdkAppId: number, msgRandom: number, now = Date.now()): string {
  counter = (counter + 1) >>> 0;
  const parts = [
    Math.floor(now / 1000).toString(16),
    sdkAppId.toString(16),
    counter.toString(16),
    crypto.randomBytes(6).toString('hex'),
    (msgRandom >>> 0).toString(16),
  ];
  return kind === 'push' ? parts.join('_') : `${kind}_${parts.join('_')}`;
}

/** What made a task: all-users or tag push, single or batch push, chat message push, call invitation. */
export type TaskKind = 'push' | 'batch' | 'chat' | 'call';

/**
 * The statistics family of a task, read from its id so that every counter, trace and callback of
 * the task lands in the right family without a lookup: 1 for chat message and call pushes (Tencent's
 * "normal push", reference §2.7), 0 for the rest (its "all member push").
 */
export function familyOf(taskId: string): 0 | 1 {
  return taskId.startsWith('chat_') || taskId.startsWith('call_') ? 1 : 0;
}

/**
 * A push's status as operators read it, from Herald's internal ones: all-users and tag pushes go
 * resolving → sending → done → expired (or revoked, or failed); single and batch pushes accepted →
 * routed; scheduled ones pending → dispatching → dispatched (or failed).
 */
export const RecordStatus = {
  /** Scheduled, not fired yet (or firing now). */
  pending: 'pending',
  /** Being sent: the audience is being resolved or fanned out, or a batch is being routed. */
  sending: 'sending',
  /** Sent to every targeted device; offline ones can still get it until it expires. */
  done: 'done',
  recalled: 'recalled',
  /** Past its expiry: no device gets it any more. */
  expired: 'expired',
  /** A schedule that could not fire (its content no longer made a valid push), or a push given up on after failed attempts. */
  failed: 'failed',
} as const;
export type RecordStatus = (typeof RecordStatus)[keyof typeof RecordStatus];

const TASK: Readonly<Record<string, RecordStatus>> = {
  resolving: RecordStatus.sending,
  sending: RecordStatus.sending,
  accepted: RecordStatus.sending,
  done: RecordStatus.done,
  routed: RecordStatus.done,
  expired: RecordStatus.expired,
  revoked: RecordStatus.recalled,
  failed: RecordStatus.failed,
};

const SCHEDULE: Readonly<Record<string, RecordStatus>> = {
  pending: RecordStatus.pending,
  dispatching: RecordStatus.pending,
  dispatched: RecordStatus.done,
  failed: RecordStatus.failed,
};

/**
 * A push task's status. Batch pushes never move past `routed` on their own, and all-users pushes
 * are closed as `expired` only by the next pass of the task runner: past its expiry, a push that
 * was sent reads as expired.
 */
export function taskRecordStatus(status: string, expiresAt: number, now: number): RecordStatus {
  const s = TASK[status] ?? RecordStatus.sending;
  return s === RecordStatus.done && expiresAt <= now ? RecordStatus.expired : s;
}

export function schedRecordStatus(status: string): RecordStatus {
  return SCHEDULE[status] ?? RecordStatus.pending;
}

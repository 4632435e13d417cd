/**
 * Why a targeted device was not sent to, or not reached. Codes -1 and -2 are Tencent's own
 * (reference §6: "-1 no certificate ID set, -2 no token uploaded"); the other negative codes are
 * Herald's, for reasons Tencent does not number.
 */
export const LossReason = {
  noCertificate: { code: -1, stage: 'ready_to_send', reason: 'no certificate for the device vendor' },
  noToken: { code: -2, stage: 'ready_to_send', reason: 'no vendor token uploaded' },
  offlineOnlineOnly: { code: -3, stage: 'ready_to_send', reason: 'device offline and the push is online-only (PushFlag 1)' },
  expired: { code: -4, stage: 'post_send', reason: 'message expired before the device acknowledged it' },
  recalled: { code: -5, stage: 'ready_to_send', reason: 'push recalled before it reached the device' },
  quietHours: { code: -6, stage: 'ready_to_send', reason: "message expired during the device's quiet hours" },
  frequencyCap: { code: -7, stage: 'ready_to_send', reason: "user reached the app's daily push limit" },
  expiredOffline: { code: -8, stage: 'ready_to_send', reason: 'device did not connect before the message expired' },
  recalledAfterSend: { code: -10, stage: 'post_send', reason: 'push recalled after it was sent, before the device acknowledged it' },
  conversationMuted: { code: -11, stage: 'ready_to_send', reason: 'user muted the conversation' },
  doNotDisturb: { code: -12, stage: 'ready_to_send', reason: "user's do-not-disturb hours" },
  noChannel: { code: -9, stage: 'ready_to_send', reason: "no server push API for the device's vendor" },
  certificateStopped: { code: -14, stage: 'ready_to_send', reason: 'the certificate for the device vendor is stopped: its vendor refused it' },
  taskFailed: { code: -13, stage: 'ready_to_send', reason: 'push failed (see the task\'s FailReason) before it was sent to the device' },
} as const;
export type LossReason = (typeof LossReason)[keyof typeof LossReason];

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
} as const;

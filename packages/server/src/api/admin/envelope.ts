/**
 * Tencent's REST envelope (reference §1.3): HTTP 200 with ActionStatus/ErrorCode/ErrorInfo plus the
 * command's own fields.
 */
export interface Envelope {
  ActionStatus: 'OK' | 'FAIL';
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

export function ok(fields: Record<string, unknown> = {}): Envelope {
  return { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, ...fields };
}

export function fail(code: number, info: string): Envelope {
  return { ActionStatus: 'FAIL', ErrorInfo: info, ErrorCode: code };
}

/** A request that must be answered with a Tencent error code. */
export class TimError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Tencent's codes that Herald answers with (cloud.tencent.com/document/product/269/117847, /679/131708). */
export const TimCode = {
  httpParse: 60002,
  accountOrSigInUrl: 60004,
  sdkAppIdInvalid: 60006,
  badResourceUrl: 60009,
  needAdmin: 60010,
  sdkAppIdMissing: 60012,
  sigExpired: 70001,
  sigParse: 70003,
  sigVerify: 70009,
  sigIdentifier: 70013,
  sigAppId: 70014,
  sdkAppIdNotFound: 70020,
  /** "Verification failed and rate limited" (cloud.tencent.com/document/product/679/131708): too many failed authentications. */
  verifyRateLimited: 70050,
  accountNotFound: 70107,
  jsonParse: 90001,
  msgRandom: 90005,
  pushNeedAdmin: 90009,
  tooManyAccounts: 90018,
  tagTooLong: 90020,
  duplicateTags: 90022,
  tooManyTags: 90032,
  invalidAttr: 90033,
  accountTypeConflict: 90035,
  tagsWithAttrs: 90039,
  emptyTag: 90040,
  badExpireTime: 90026,
  noSuchTask: 90049,
  alreadyRecalled: 90050,
  recallTooFrequent: 90051,
  recallWindowPassed: 90052,
  recallNeedsInfo: 90053,
  /** Herald's: a scheduled task that has fired or is firing can no longer change. */
  schedNotPending: 90090,
  /** Herald's: no certificate with this id in this app. */
  noSuchCertificate: 90091,
  /** Herald's: no push template with this PushTemplateId in this app. */
  noSuchTemplate: 90092,
  /** Herald's: a push template placeholder has no value, or PushTemplateParam sets a reserved variable. */
  templateParam: 90093,
  /** Herald's: Condition.Expression, or the audience the Condition makes, is nested too deep or has too many nodes. */
  audienceTooComplex: 90094,
  bodyTooLarge: 90056,
  dataIdTooLong: 90057,
  internal: 91000,
} as const;

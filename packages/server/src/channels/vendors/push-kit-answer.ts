import { z } from 'zod';
import { resultForAll, type BatchOutcome, type VendorResult, type VendorTarget } from '../vendor.js';
import type { Answer } from '../net/retry.js';
import type { VendorResponse } from '../net/http-post.js';
import { refusedAuth } from './refused-credentials.js';

/** Push Kit's answer `{code, msg, requestId}`, HMS v1 and HarmonyOS v3 alike (§3.3, §4.3). */
const Body = z.object({ code: z.string(), msg: z.string().optional() });

/** An answer's business code as sent (absent when the body is not Push Kit's), as a number (else the HTTP status), and its text. */
export interface PushKitAnswer {
  raw: string | undefined;
  code: number;
  info: string;
}

/**
 * Reads a Push Kit answer: 80000000 sends every device; `sort` classifies the reader's own codes
 * (given `all`, one outcome for every device) and returns undefined for the rest, which are read
 * alike: 81000001 (internal error) and 5xx are retried; a 401 is a refused access token or JWT
 * (`fix` says what to check if it stays refused); anything else fails every device with the code,
 * tokens kept.
 */
export async function readPushKit(
  res: VendorResponse,
  part: readonly VendorTarget[],
  fresh: boolean,
  fix: string,
  sort: (a: PushKitAnswer, all: (x: BatchOutcome) => Answer<VendorResult[]>) => Answer<VendorResult[]> | undefined,
): Promise<Answer<VendorResult[]>> {
  const parsed = Body.safeParse(await res.json().catch(() => null));
  const raw = parsed.success ? parsed.data.code : undefined;
  const a: PushKitAnswer = { raw, code: Number(raw ?? res.status), info: (parsed.success ? parsed.data.msg : undefined) ?? res.statusText };
  const all = (x: BatchOutcome): Answer<VendorResult[]> => ({ done: resultForAll(part, x) });
  if (raw === '80000000') return all({ outcome: 'sent' });
  const sorted = sort(a, all);
  if (sorted) return sorted;
  if (raw === '81000001') return { later: `${a.code} ${a.info}` };
  if (res.status === 401) return refusedAuth(part, fresh, a.code, a.info, fix);
  if (res.status >= 500) return { later: `${a.code} ${a.info}`, retryAfter: res.headers.get('retry-after') };
  return all({ outcome: 'failed', code: a.code, info: a.info });
}

import crypto from 'node:crypto';
import type { DeviceMessage } from '../../dispatch/message.js';
import type { CertificateCheck, ReceiptEvent, VendorAdapter, VendorMessage, VendorResult, VendorTarget } from '../vendor.js';
import { httpPost, type VendorResponse } from '../net/http-post.js';
import type { Answer } from '../net/retry.js';
import { badge99 } from './push-data.js';

/** What OPPO, vivo and Meizu share: hex digests for their signs, form and JSON posts, Herald's payload and clocks. */

export const sha256Hex = (s: string): string => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
export const md5Hex = (s: string): string => crypto.createHash('md5').update(s, 'utf8').digest('hex');

/** A stable notification id per push (0..2^31-1), so a resend of the same TaskId replaces the notification. */
export const notifyIdOf = (taskId: string): number => crypto.createHash('sha256').update(taskId).digest().readUInt32BE(0) & 0x7fffffff;

/** Whole seconds left before the push expires, within the vendor's bounds. */
export function ttlSeconds(expiresAt: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor((expiresAt - Date.now()) / 1000)));
}

/**
 * Milliseconds to the next midnight in China Standard Time (UTC+8). OPPO, vivo and Meizu count
 * their daily quotas per day ("stop for today", vendor-protocols.md §7.3, §8) without naming the
 * time zone; they run in China and OPPO stamps its times in GMT+8, so the day is taken as China's
 * (an inference).
 */
export function untilChinaMidnight(now = Date.now()): number {
  const day = 86_400_000;
  const shifted = now + 8 * 3_600_000;
  return day - (shifted % day);
}

/** The AndroidInfo of a rendered message, as loose fields. */
export function androidInfo(m: DeviceMessage): Record<string, unknown> {
  return (m.info.AndroidInfo ?? {}) as Record<string, unknown>;
}

/**
 * The launcher badge Huawei and Honor take (vendor-protocols.md §3.2, §5), as `badge99` rules it.
 * The vendor needs the app's launcher activity class, which the certificate names (`badgeClass`);
 * without it no badge is sent.
 */
export function androidBadge(m: DeviceMessage, badgeClass: string | undefined, targetBadge: number | undefined): { add: number } | { set: number } | undefined {
  return badgeClass ? badge99(m, targetBadge) : undefined;
}

/** A non-empty string field, else undefined. */
export const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A receipt URL the vendor's callback field can hold, else none (the push goes without receipts). */
export const fitUrl = (url: string | undefined, maxBytes: number): string | undefined => (url && Buffer.byteLength(url) <= maxBytes ? url : undefined);

export interface VendorReply {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

async function reply(res: VendorResponse): Promise<VendorReply> {
  const body = (await res.json().catch(() => ({}))) as unknown;
  return { status: res.status, body: typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}, retryAfter: res.headers.get('retry-after') };
}

/** POSTs a form (`application/x-www-form-urlencoded;charset=UTF-8`) and reads the JSON answer. */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<VendorReply> {
  return reply(await httpPost(url, { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', ...headers }, new URLSearchParams(form).toString()));
}

/** POSTs JSON and reads the JSON answer. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<VendorReply> {
  return reply(await httpPost(url, { 'content-type': 'application/json;charset=UTF-8', ...headers }, JSON.stringify(body)));
}

/** Splits a vendor's comma-separated id list (some put a space after the comma). */
export const idList = (s: unknown): string[] => (typeof s === 'string' ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);

/** A receipt body's JSON, or undefined when it is not JSON. */
export function jsonOf(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** One arrival per token of a receipt entry whose callback parameter is Herald's TaskId. */
export function arrivals(param: unknown, tokens: readonly unknown[]): ReceiptEvent[] {
  const taskId = text(param);
  if (!taskId) return [];
  return tokens.filter((t): t is string => typeof t === 'string' && t !== '').map((token) => ({ taskId, token, outcome: 'reached' }));
}

/** How one send goes out: with a receipt URL or none, as a recall's overwrite or not, on a certificate known to work or not. */
export interface SendOptions {
  receiptUrl: string | undefined;
  overwrite: boolean;
  /** SendContext.certificateProven: an answer that a wrong certificate can also give clears a token only when true. */
  proven: boolean;
}

type SendAll = (config: Record<string, unknown>, message: VendorMessage, targets: readonly VendorTarget[], opts: SendOptions) => Promise<VendorResult[]>;

/**
 * An adapter for a vendor with no revoke API: a recall sends the replacement under the push's own
 * notification id (which replaces the shown notification), without asking for receipts. The
 * receipt URL goes to the vendor only when its callback field can hold it. A recall goes only to
 * devices the push was sent to, so the certificate has worked.
 */
export function overwritingAdapter(sendAll: SendAll, callbackMaxBytes: number, receipts: (body: Buffer) => ReceiptEvent[], check: NonNullable<VendorAdapter['check']>): VendorAdapter {
  return {
    send: (config, message, targets, ctx) => sendAll(config, message, targets, { receiptUrl: fitUrl(ctx.receiptUrl, callbackMaxBytes), overwrite: false, proven: ctx.certificateProven === true }),
    recall: async (config, { message, targets }) => void (await sendAll(config, message, targets, { receiptUrl: undefined, overwrite: true, proven: true })),
    receipts,
    check,
  };
}

/**
 * The vendor would not issue an access token for these credentials (OPPO `auth_token`, vivo
 * `authToken`), with its code: the adapter decides whether that stops the certificate.
 */
export class TokenRefused extends Error {
  constructor(
    readonly code: number,
    readonly info: string,
  ) {
    super(`${code} ${info}`);
  }
}

/**
 * One request with an access token: `use` it, or, when the vendor refused to issue one, answer with
 * `refused` (a network error still throws, to be retried).
 */
export async function withToken<T>(get: () => Promise<string>, refused: (err: TokenRefused) => Answer<T>, use: (token: string) => Promise<Answer<T>>): Promise<Answer<T>> {
  let token: string;
  try {
    token = await get();
  } catch (err) {
    if (err instanceof TokenRefused) return refused(err);
    throw err;
  }
  return use(token);
}

/**
 * Runs a certificate check: a refused access token is its verdict (with what to look at), and a
 * vendor that cannot be reached fails the check without saying the credentials are wrong.
 */
export async function checked(run: () => Promise<CertificateCheck>, whatToCheck: string): Promise<CertificateCheck> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof TokenRefused) return { ok: false, code: err.code, info: `${err.info}: ${whatToCheck}` };
    return { ok: false, code: 0, info: `no answer from the vendor: ${(err as Error).message}` };
  }
}

/** A check that passes when the vendor issues an access token (`issue` asks for a new one). */
export function tokenCheck(issue: () => Promise<string>, taken: string, whatToCheck: string): Promise<CertificateCheck> {
  return checked(async () => {
    await issue();
    return { ok: true, info: taken };
  }, whatToCheck);
}

/** Today in China (UTC+8) as yyyyMMdd, the form Xiaomi's and Meizu's statistics calls take. */
export function chinaDay(now = Date.now()): string {
  return new Date(now + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
}

import type { z } from 'zod';
import { audience } from '../../store/index.js';
import type { AdminDeps } from './context.js';
import type { AdminCaller } from './auth.js';
import { TimCode, TimError } from './envelope.js';
import { describeIssue } from '../zod-error.js';

/** Tencent: tag and attribute calls take at most 100 accounts (trtc.io/document/60565, 67821). */
const MAX_ACCOUNTS_PER_CALL = 100;

export const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new TimError(TimCode.jsonParse, describeIssue(r.error));
  return r.data;
}

function checkAccountCount(n: number): void {
  if (n > MAX_ACCOUNTS_PER_CALL) throw new TimError(TimCode.tooManyAccounts, `${n} accounts in one call; at most ${MAX_ACCOUNTS_PER_CALL}`);
}

export interface ErrorEntry {
  To_Account: string;
  ErrorCode: number;
  ErrorInfo: string;
}

export const notFound = (account: string): ErrorEntry => ({ To_Account: account, ErrorCode: TimCode.accountNotFound, ErrorInfo: 'account has no registered device' });

export function withErrors(out: Record<string, unknown>, errors: ErrorEntry[]): Record<string, unknown> {
  if (errors.length > 0) out.ErrorList = errors;
  return out;
}

export interface CallAccounts {
  appId: number;
  /** The accounts that exist, with their type. */
  kinds: Map<string, audience.AccountType>;
  /** 70107 for each named account that does not. */
  errors: ErrorEntry[];
}

/** Checks the count of accounts a call names and resolves them (one pair of lookups). */
export async function callAccounts(caller: AdminCaller, deps: AdminDeps, accounts: readonly string[]): Promise<CallAccounts> {
  checkAccountCount(accounts.length);
  const appId = caller.app.sdkAppId;
  const kinds = await audience.resolveAccounts(deps.db, appId, accounts);
  const errors = [...new Set(accounts)].filter((a) => !kinds.has(a)).map(notFound);
  return { appId, kinds, errors };
}

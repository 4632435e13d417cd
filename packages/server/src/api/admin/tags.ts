import { z } from 'zod';
import { audience } from '../../store/index.js';
import { byteLength, callAccounts, parseBody, withErrors } from './input.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';

/**
 * Tag commands (reference §2.5; trtc.io/document/67821, 60567, 60569, 67823). Limits from Tencent:
 * tags ≤ 50 bytes, ≤ 10 tags per user per append (≤ 100 with Replace), ≤ 100 tags per user,
 * ≤ 1,000 distinct tags per app.
 */
const MAX_TAG_BYTES = 50;
const MAX_APPEND = 10;
const MAX_PER_USER = 100;
const MAX_PER_APP = 1000;

const Account = z.string().min(1).max(128);
const UserTags = z.array(z.object({ To_Account: Account, Tags: z.array(z.string()) })).min(1);
const AddTagBody = z.object({ Replace: z.union([z.literal(0), z.literal(1)]).default(0), UserTags });
const RemoveTagBody = z.object({ UserTags });
const AccountsBody = z.object({ To_Account: z.array(Account).min(1) });

const admin = TimCode.pushNeedAdmin;

function checkTags(tags: readonly string[], max: number): void {
  for (const t of tags) {
    if (t.length === 0) throw new TimError(TimCode.emptyTag, 'a tag is empty');
    if (byteLength(t) > MAX_TAG_BYTES) throw new TimError(TimCode.tagTooLong, `tag ${t.slice(0, 20)}… is longer than ${MAX_TAG_BYTES} bytes`);
  }
  if (tags.length > max) throw new TimError(TimCode.tooManyTags, `${tags.length} tags for one account; at most ${max} in one call`);
}

export const addTag: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(AddTagBody, body);
    for (const u of b.UserTags) checkTags(u.Tags, b.Replace === 1 ? MAX_PER_USER : MAX_APPEND);
    const { appId, kinds, errors } = await callAccounts(caller, deps, b.UserTags.map((u) => u.To_Account));
    await deps.db.transaction().execute(async (tx) => {
      const allTags = b.UserTags.flatMap((u) => u.Tags);
      const types = await audience.tagTypes(tx, appId, allTags);
      const current = await audience.tagsOf(tx, appId, [...kinds.keys()]);
      const newTypes = new Map<string, audience.AccountType>();
      const add: { account: string; tag: string }[] = [];
      const replaced: string[] = [];
      for (const u of b.UserTags) {
        const kind = kinds.get(u.To_Account);
        if (kind === undefined) continue;
        const clash = u.Tags.find((t) => (types.get(t) ?? newTypes.get(t) ?? kind) !== kind);
        if (clash !== undefined) {
          errors.push({ To_Account: u.To_Account, ErrorCode: TimCode.accountTypeConflict, ErrorInfo: `tag ${clash} applies to the other account type` });
          continue;
        }
        const tags = new Set(u.Tags);
        const total = b.Replace === 1 ? tags.size : new Set([...(current.get(u.To_Account) ?? []), ...tags]).size;
        if (total > MAX_PER_USER) {
          errors.push({ To_Account: u.To_Account, ErrorCode: TimCode.tooManyTags, ErrorInfo: `an account has at most ${MAX_PER_USER} tags` });
          continue;
        }
        if (b.Replace === 1) replaced.push(u.To_Account);
        for (const t of tags) {
          if (!types.has(t)) newTypes.set(t, kind);
          add.push({ account: u.To_Account, tag: t });
        }
      }
      if (newTypes.size > 0 && (await audience.countTagTypes(tx, appId)) + newTypes.size > MAX_PER_APP) {
        throw new TimError(TimCode.tooManyTags, `an app has at most ${MAX_PER_APP} distinct tags`);
      }
      await audience.putTagTypes(tx, appId, newTypes);
      await audience.clearTags(tx, appId, replaced);
      await audience.addTags(tx, appId, add);
    });
    return withErrors({}, errors);
  },
};

export const getTag: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(AccountsBody, body);
    const { appId, kinds, errors } = await callAccounts(caller, deps, b.To_Account);
    const tags = await audience.tagsOf(deps.db, appId, [...kinds.keys()]);
    const userTags = [...new Set(b.To_Account)].filter((a) => kinds.has(a)).map((a) => ({ To_Account: a, Tags: tags.get(a) ?? [] }));
    return withErrors({ UserTags: userTags }, errors);
  },
};

export const removeTag: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(RemoveTagBody, body);
    for (const u of b.UserTags) checkTags(u.Tags, MAX_PER_USER);
    const { appId, kinds, errors } = await callAccounts(caller, deps, b.UserTags.map((u) => u.To_Account));
    const pairs = b.UserTags.filter((u) => kinds.has(u.To_Account)).flatMap((u) => u.Tags.map((tag) => ({ account: u.To_Account, tag })));
    await audience.removeTags(deps.db, appId, pairs);
    return withErrors({}, errors);
  },
};

export const clearAllTags: AdminCommand = {
  adminCode: admin,
  async handle(caller, body, deps) {
    const b = parseBody(AccountsBody, body);
    const { appId, kinds, errors } = await callAccounts(caller, deps, b.To_Account);
    await audience.clearTags(deps.db, appId, [...kinds.keys()]);
    return withErrors({}, errors);
  },
};

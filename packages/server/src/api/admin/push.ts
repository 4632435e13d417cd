import type { Transaction } from 'kysely';
import { z } from 'zod';
import { OfflinePushInfo } from '../../dispatch/index.js';
import { acceptBroadcast, applyPushTemplate, AUDIENCE_LIMITS, AudienceTooComplex, checkAudience, countAudience, PushPolicy, type Audience } from '../../dispatch/index.js';
import { apps as appStore, audience as audienceStore, type Database } from '../../store/index.js';
import type { AdminCommand, AdminDeps } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { byteLength, parseBody } from './input.js';

const MAX_BODY = 10 * 1024;
const MAX_TAGS = 10;
/** Condition.Expression's own limits; with Tencent's fields around it, the audience stays within AUDIENCE_LIMITS. */
const EXPRESSION_LIMITS = { depth: 10, nodes: 50 } as const;

type Node = { Tag: string } | { Attr: Record<string, string> } | { And: Node[] } | { Or: Node[] } | { Not: Node };

/** Herald's nested condition (like TPNS tag_rules): tags and attributes under And / Or / Not. */
const NodeSchema: z.ZodType<Node> = z.lazy(() =>
  z.union([
    z.strictObject({ Tag: z.string() }),
    z.strictObject({ Attr: z.record(z.string(), z.string()).refine((r) => Object.keys(r).length === 1, 'Attr names exactly one attribute') }),
    z.strictObject({ And: z.array(NodeSchema).min(1).max(10) }),
    z.strictObject({ Or: z.array(NodeSchema).min(1).max(10) }),
    z.strictObject({ Not: NodeSchema }),
  ]),
);

// Strict: a misspelt key must not quietly widen a tag push to every user.
const Condition = z.strictObject({
  TagsAnd: z.array(z.string()).optional(),
  TagsOr: z.array(z.string()).optional(),
  TagsNot: z.array(z.string()).optional(),
  AttrsAnd: z.record(z.string(), z.string()).optional(),
  AttrsOr: z.record(z.string(), z.string()).optional(),
  Expression: NodeSchema.optional(),
});
type Condition = z.infer<typeof Condition>;

/** `v4/timpush/push` (reference §2.1, trtc.io/document/60561), with Herald's optional fields. */
export const PushBody = z.object({
  From_Account: z.string().min(1).max(128),
  MsgRandom: z.number(),
  Condition: Condition.optional(),
  OfflinePushInfo: OfflinePushInfo,
  DataId: z.string().optional(),
  ExpireTime: z.number().optional(),
  PushSpeed: z.number().int().min(1).max(1_000_000).optional(),
  DryRun: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
});
export type PushBody = z.infer<typeof PushBody>;

function nodeTags(n: Node, out: string[]): void {
  if ('Tag' in n) out.push(n.Tag);
  else if ('And' in n) for (const c of n.And) nodeTags(c, out);
  else if ('Or' in n) for (const c of n.Or) nodeTags(c, out);
  else if ('Not' in n) nodeTags(n.Not, out);
}

/** Tencent's tag rules, each with its own code (trtc.io/document/37166, product/269/117847). */
function checkTags(c: Condition): void {
  const hasTags = !!(c.TagsAnd?.length || c.TagsOr?.length || c.TagsNot?.length);
  const hasAttrs = !!(Object.keys(c.AttrsAnd ?? {}).length || Object.keys(c.AttrsOr ?? {}).length);
  if (hasTags && hasAttrs) throw new TimError(TimCode.tagsWithAttrs, 'a Condition cannot have both tags and attributes (use Expression to combine them)');
  const all: string[] = [...(c.TagsAnd ?? []), ...(c.TagsOr ?? []), ...(c.TagsNot ?? [])];
  if (c.Expression) nodeTags(c.Expression, all);
  for (const t of all) {
    if (t.length === 0) throw new TimError(TimCode.emptyTag, 'a tag in Condition is empty');
    if (byteLength(t) > 50) throw new TimError(TimCode.tagTooLong, `tag ${t.slice(0, 20)}… is longer than 50 bytes`);
  }
  for (const [name, list] of [['TagsAnd', c.TagsAnd], ['TagsOr', c.TagsOr], ['TagsNot', c.TagsNot]] as const) {
    if (list && new Set(list).size !== list.length) throw new TimError(TimCode.duplicateTags, `${name} repeats a tag`);
  }
  if (all.length > MAX_TAGS) throw new TimError(TimCode.tooManyTags, `Condition has ${all.length} tags; at most ${MAX_TAGS}`);
}

/** The Condition as an audience expression, attribute names resolved to their slots (90033 for unknown ones). */
async function toAudience(deps: AdminDeps, appId: number, c: Condition | undefined): Promise<Audience> {
  if (!c) return { all: true };
  const names = new Map((await audienceStore.attrNames(deps.db, appId)).map((n) => [n.name, n]));
  const attr = (name: string, value: string): Audience => {
    const n = names.get(name);
    if (!n) throw new TimError(TimCode.invalidAttr, `attribute ${name} is not defined (set_attr_name)`);
    if (byteLength(value) > 50) throw new TimError(TimCode.invalidAttr, `value of ${name} is longer than 50 bytes`);
    return { attr: n.slot, type: n.accountType, value };
  };
  const node = (n: Node): Audience => {
    if ('Tag' in n) return { tag: n.Tag };
    if ('Attr' in n) {
      const [name, value] = Object.entries(n.Attr)[0]!;
      return attr(name, value);
    }
    if ('And' in n) return { and: n.And.map(node) };
    if ('Or' in n) return { or: n.Or.map(node) };
    return { not: node(n.Not) };
  };
  const parts: Audience[] = [];
  if (c.TagsAnd?.length) parts.push({ and: c.TagsAnd.map((tag) => ({ tag })) });
  if (c.TagsOr?.length) parts.push({ or: c.TagsOr.map((tag) => ({ tag })) });
  if (c.TagsNot?.length) parts.push({ not: { or: c.TagsNot.map((tag) => ({ tag })) } });
  if (c.AttrsAnd && Object.keys(c.AttrsAnd).length) parts.push({ and: Object.entries(c.AttrsAnd).map(([k, v]) => attr(k, v)) });
  if (c.AttrsOr && Object.keys(c.AttrsOr).length) parts.push({ or: Object.entries(c.AttrsOr).map(([k, v]) => attr(k, v)) });
  if (c.Expression) {
    const e = node(c.Expression);
    tooComplex(e, EXPRESSION_LIMITS, 'Condition.Expression');
    parts.push(e);
  }
  // An empty Condition is more likely a mistake than a wish to reach everyone.
  if (parts.length === 0) throw new TimError(TimCode.emptyTag, 'Condition names no tag or attribute; omit Condition to push to all users');
  const audience: Audience = parts.length === 1 ? parts[0]! : { and: parts };
  tooComplex(audience, AUDIENCE_LIMITS, 'the audience of Condition');
  return audience;
}

/** 90094 for an audience the SQL it compiles to could not hold (dispatch/audience.ts). */
function tooComplex(a: Audience, limits: { depth: number; nodes: number }, what: string): void {
  try {
    checkAudience(a, limits, what);
  } catch (err) {
    if (err instanceof AudienceTooComplex) throw new TimError(TimCode.audienceTooComplex, err.message);
    throw err;
  }
}

/** Checks with their own Tencent codes, before the general schema. */
export function precheckPush(body: Record<string, unknown>): void {
  const r = body.MsgRandom;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > 0xffffffff) {
    throw new TimError(TimCode.msgRandom, 'MsgRandom is missing or not a 32-bit unsigned integer');
  }
  if (typeof body.DataId === 'string' && byteLength(body.DataId) > 64) throw new TimError(TimCode.dataIdTooLong, 'DataId is longer than 64 bytes');
  if (byteLength(JSON.stringify(body)) > MAX_BODY) throw new TimError(TimCode.bodyTooLarge, 'push body is larger than 10 KB');
  const e = body.ExpireTime;
  if (e !== undefined && (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > 30 * 86400)) {
    throw new TimError(TimCode.badExpireTime, 'ExpireTime must be whole seconds from 1 to 2592000 (30 days)');
  }
}

export interface ParsedPush {
  body: PushBody;
  audience: Audience;
}

export async function parsePush(deps: AdminDeps, appId: number, body: Record<string, unknown>): Promise<ParsedPush> {
  precheckPush(body);
  if (body.Condition !== undefined) {
    const c = Condition.safeParse(body.Condition);
    if (c.success) checkTags(c.data);
  }
  const b = parseBody(PushBody, body);
  // filled here so that DryRun and scheduling check the template too
  b.OfflinePushInfo = await applyPushTemplate(deps.db, appId, b.OfflinePushInfo);
  return { body: b, audience: await toAudience(deps, appId, b.Condition) };
}

/** Stores the task (or, for DryRun, only counts its audience). */
export async function submitPush(deps: AdminDeps, appId: number, p: ParsedPush, raw: unknown, onStored?: (tx: Transaction<Database>, taskId: string) => Promise<void>): Promise<{ taskId: string }> {
  const settings = PushPolicy.safeParse((await appStore.getSettings(deps.db, appId)).push ?? {});
  const { taskId } = await acceptBroadcast(deps.broadcast, appId, {
    from: p.body.From_Account,
    msgRandom: p.body.MsgRandom,
    info: p.body.OfflinePushInfo,
    audience: p.audience,
    kind: 'all' in p.audience ? 'all' : 'tag',
    dataId: p.body.DataId,
    expireSeconds: p.body.ExpireTime,
    pushSpeed: p.body.PushSpeed,
    policy: settings.success ? settings.data : {},
    raw,
  }, onStored);
  return { taskId };
}

export const pushCommand: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const appId = caller.app.sdkAppId;
    const p = await parsePush(deps, appId, body);
    if (p.body.DryRun === 1 || p.body.DryRun === true) {
      return { AudienceCount: await countAudience(deps.db, appId, p.audience) };
    }
    return { TaskId: (await submitPush(deps, appId, p, body)).taskId };
  },
};

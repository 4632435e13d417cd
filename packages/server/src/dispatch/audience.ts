import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/index.js';
import { AccountType } from '../store/audience.js';
import { chunks } from '../util/chunks.js';
import { yieldToLoop } from '../util/yield.js';

/**
 * The audience of an all-users or tag push, as stored with its task: a boolean expression over tags
 * and attributes (Tencent's TagsAnd/TagsOr/AttrsAnd/AttrsOr, plus Herald's TagsNot and nested
 * expressions). Attribute leaves carry the slot and account type fixed when the push was accepted;
 * a tag's account type is looked up when the audience is resolved.
 */
export type Audience =
  | { all: true }
  | { tag: string }
  | { attr: number; type: AccountType; value: string }
  | { and: Audience[] }
  | { or: Audience[] }
  | { not: Audience };

/** Tag names in an audience, each once. */
export function tagsOf(a: Audience, out = new Set<string>()): Set<string> {
  if ('tag' in a) out.add(a.tag);
  else if ('and' in a) for (const c of a.and) tagsOf(c, out);
  else if ('or' in a) for (const c of a.or) tagsOf(c, out);
  else if ('not' in a) tagsOf(a.not, out);
  return out;
}

/** How deep (nodes on the longest path from the root to a leaf) and how large (nodes) an audience is. */
export function audienceShape(a: Audience): { depth: number; nodes: number } {
  let depth = 0;
  let nodes = 0;
  // a stack rather than recursion: a stored audience is not trusted to be shallow
  const stack: [Audience, number][] = [[a, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [n, d] = top;
    nodes++;
    depth = Math.max(depth, d);
    const children = 'and' in n ? n.and : 'or' in n ? n.or : 'not' in n ? [n.not] : [];
    if (Array.isArray(children)) for (const c of children) stack.push([c, d + 1]);
  }
  return { depth, nodes };
}

/**
 * The largest audience Herald compiles. Each level of nesting is a level of subqueries and each node
 * a SELECT term: SQLite refuses a few hundred levels ("Recursion limit"; its compound SELECTs stop at
 * 500 terms, its expressions at 1,000 levels), and PostgreSQL plans ever slower (0.2 s at 100
 * levels, a stack overflow after 20 s at 1,000), so the limits stay far below both. The worst
 * audiences at these limits run on both dialects in audience-limits.test.ts. Devices listed in a
 * query are split to keep within MAX_PARAMS.
 */
export const AUDIENCE_LIMITS = { depth: 12, nodes: 64 } as const;

/** An audience too deep or too large to compile (a task stored before the limits, or by hand). */
export class AudienceTooComplex extends Error {}

/** Throws AudienceTooComplex for an audience over the limits (`what` names it in the message). */
export function checkAudience(a: Audience, limits: { depth: number; nodes: number } = AUDIENCE_LIMITS, what = 'the audience'): void {
  const s = audienceShape(a);
  if (s.depth > limits.depth) throw new AudienceTooComplex(`${what} is nested ${s.depth} levels deep; at most ${limits.depth}`);
  if (s.nodes > limits.nodes) throw new AudienceTooComplex(`${what} has ${s.nodes} nodes; at most ${limits.nodes}`);
}

/**
 * A set of accounts as SQL: `acc` values of one kind. Kind 0 = UserIDs, 1 = RegistrationIDs; sets of
 * the same kind combine before they are mapped to devices, so `TagsAnd` over UserID tags intersects
 * the tag index entries first and joins the devices table once.
 */
interface AccountSet {
  kind: AccountType;
  sql: RawBuilder<unknown>;
}

interface Compiler {
  appId: number;
  tagTypes: Map<string, AccountType>;
  /** Restrict every set to these devices (devices catching up on connect). */
  only?: readonly string[];
}

const EMPTY = sql`select registration_id as acc from devices where 1 = 0`;

function devicesOfApp(c: Compiler): RawBuilder<unknown> {
  return c.only === undefined
    ? sql`select registration_id as acc from devices where app_id = ${c.appId}`
    : sql`select registration_id as acc from devices where app_id = ${c.appId} and registration_id in (${sql.join(c.only)})`;
}

/** Registration ids of the devices of a set's accounts. */
function toDevices(c: Compiler, s: AccountSet): RawBuilder<unknown> {
  if (s.kind === AccountType.registrationId) return s.sql;
  const one = c.only === undefined ? sql`` : sql` and d.registration_id in (${sql.join(c.only)})`;
  // CROSS JOIN makes SQLite loop over the (small) account set and probe devices by user; without
  // statistics it would otherwise scan every device of the app and search the set for each.
  return sql`select d.registration_id as acc from (${s.sql}) as s cross join devices d where d.app_id = ${c.appId} and d.user_id = s.acc${one}`;
}

// SQLite does not allow a parenthesised compound member, so each member selects from a subquery.
function combine(op: 'intersect' | 'union' | 'except', parts: RawBuilder<unknown>[]): RawBuilder<unknown> {
  const keyword = op === 'intersect' ? sql` intersect ` : op === 'union' ? sql` union ` : sql` except `;
  return sql.join(
    parts.map((p) => sql`select acc from (${p}) as m`),
    keyword,
  );
}

function leafFilter(c: Compiler, kind: AccountType, column: RawBuilder<unknown>): RawBuilder<unknown> {
  // A RegistrationID-kind leaf can be narrowed to the devices at once; UserID leaves are narrowed by the join.
  return c.only !== undefined && kind === AccountType.registrationId ? sql` and ${column} in (${sql.join(c.only)})` : sql``;
}

function compile(c: Compiler, a: Audience): AccountSet {
  if ('all' in a) return { kind: AccountType.registrationId, sql: devicesOfApp(c) };
  if ('tag' in a) {
    const kind = c.tagTypes.get(a.tag);
    if (kind === undefined) return { kind: AccountType.registrationId, sql: EMPTY };
    return { kind, sql: sql`select account as acc from account_tags where app_id = ${c.appId} and tag = ${a.tag}${leafFilter(c, kind, sql.ref('account'))}` };
  }
  if ('attr' in a) {
    return {
      kind: a.type,
      sql: sql`select account as acc from account_attrs where app_id = ${c.appId} and slot = ${a.attr} and value = ${a.value}${leafFilter(c, a.type, sql.ref('account'))}`,
    };
  }
  if ('not' in a) {
    return { kind: AccountType.registrationId, sql: combine('except', [devicesOfApp(c), toDevices(c, compile(c, a.not))]) };
  }
  const children = ('and' in a ? a.and : a.or).map((x) => compile(c, x));
  const op = 'and' in a ? 'intersect' : 'union';
  if (children.length === 1) return children[0]!;
  const kind = children[0]!.kind;
  if (children.every((x) => x.kind === kind)) return { kind, sql: combine(op, children.map((x) => x.sql)) };
  return { kind: AccountType.registrationId, sql: combine(op, children.map((x) => toDevices(c, x))) };
}

async function tagTypes(db: Kysely<Database>, appId: number, a: Audience): Promise<Map<string, AccountType>> {
  const tags = [...tagsOf(a)];
  const out = new Map<string, AccountType>();
  if (tags.length === 0) return out;
  const rows = await db.selectFrom('tag_types').select(['tag', 'account_type']).where('app_id', '=', appId).where('tag', 'in', tags).execute();
  for (const r of rows) out.set(r.tag, r.account_type as AccountType);
  return out;
}

/** The registration ids of the app's devices in the audience, as one SQL set. */
function audienceSql(c: Compiler, a: Audience): RawBuilder<unknown> {
  return toDevices(c, compile(c, a));
}

async function compiler(db: Kysely<Database>, appId: number, a: Audience): Promise<Compiler> {
  checkAudience(a);
  return { appId, tagTypes: await tagTypes(db, appId, a) };
}

/** How many devices the audience holds now (DryRun). Set operations driven by the tag and attribute indexes. */
export async function countAudience(db: Kysely<Database>, appId: number, a: Audience): Promise<number> {
  const q = audienceSql(await compiler(db, appId, a), a);
  const r = await sql<{ n: number | string }>`select count(*) as n from (${q}) as a`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

const ALL_PAGE = 50_000;

/** The audience's registration ids in ascending order: what a task's shards are cut from. */
export async function resolveAudience(db: Kysely<Database>, appId: number, a: Audience): Promise<string[]> {
  if ('all' in a) {
    // Every device of the app: read in pages along the primary key, giving the event loop a turn between them.
    const out: string[] = [];
    for (;;) {
      const after = out.length > 0 ? out[out.length - 1]! : '';
      const page = await db.selectFrom('devices').select('registration_id').where('app_id', '=', appId).where('registration_id', '>', after).orderBy('registration_id').limit(ALL_PAGE).execute();
      for (const r of page) out.push(r.registration_id);
      if (page.length < ALL_PAGE) return out;
      await yieldToLoop();
    }
  }
  const q = audienceSql(await compiler(db, appId, a), a);
  const r = await sql<{ acc: string }>`select acc from (${q}) as a order by acc`.execute(db);
  return r.rows.map((x) => x.acc);
}

/**
 * Bound values per statement: SQLite's default limit is 32,766, and pg sends the count in 16 bits
 * (32,767), whatever PostgreSQL's own limit (65,535).
 */
const MAX_PARAMS = 30_000;

/**
 * Which of these devices are in the audience now (the live pass, devices catching up on connect).
 * The devices are listed at every leaf of the compiled audience, so they are asked about in as many
 * statements as keep each within MAX_PARAMS.
 */
export async function devicesInAudience(db: Kysely<Database>, appId: number, a: Audience, registrationIds: readonly string[]): Promise<Set<string>> {
  if (registrationIds.length === 0) return new Set();
  if ('all' in a) return new Set(registrationIds);
  const c = await compiler(db, appId, a);
  // bound values for a list of one device and of two: the fixed ones, and how many each device adds
  const one = audienceSql({ ...c, only: ['a'] }, a).compile(db).parameters.length;
  const perDevice = audienceSql({ ...c, only: ['a', 'b'] }, a).compile(db).parameters.length - one;
  const size = Math.max(1, Math.floor((MAX_PARAMS - (one - perDevice)) / Math.max(1, perDevice)));
  const out = new Set<string>();
  for (const part of chunks(registrationIds, size)) {
    const r = await sql<{ acc: string }>`select acc from (${audienceSql({ ...c, only: part }, a)}) as a`.execute(db);
    for (const x of r.rows) out.add(x.acc);
  }
  return out;
}

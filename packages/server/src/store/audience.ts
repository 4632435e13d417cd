import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { chunks } from '../util/chunks.js';
import { lockForApp } from './app-counters.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Tencent's account types for tags and attributes. */
export const AccountType = { userId: 0, registrationId: 1 } as const;
export type AccountType = (typeof AccountType)[keyof typeof AccountType];

/**
 * What each account is: a RegistrationID of a registered device (1), else a UserID bound to at
 * least one device (0). Accounts that are neither are absent. Two indexed lookups.
 */
export async function resolveAccounts(db: Db, appId: number, accounts: readonly string[]): Promise<Map<string, AccountType>> {
  const out = new Map<string, AccountType>();
  if (accounts.length === 0) return out;
  const unique = [...new Set(accounts)];
  for (const part of chunks(unique, 500)) {
    const users = await db.selectFrom('devices').select('user_id').distinct().where('app_id', '=', appId).where('user_id', 'in', part).execute();
    for (const u of users) out.set(u.user_id!, AccountType.userId);
    const regs = await db.selectFrom('devices').select('registration_id').where('app_id', '=', appId).where('registration_id', 'in', part).execute();
    for (const r of regs) out.set(r.registration_id, AccountType.registrationId);
  }
  return out;
}

// ---- attributes ----

export interface AttrName {
  slot: number;
  name: string;
  accountType: AccountType;
}

export async function attrNames(db: Db, appId: number): Promise<AttrName[]> {
  const rows = await db.selectFrom('attr_names').selectAll().where('app_id', '=', appId).orderBy('slot').execute();
  return rows.map((r) => ({ slot: r.slot, name: r.name, accountType: r.account_type as AccountType }));
}

/**
 * Call first in a transaction that reads the app's attribute names and then writes them: another
 * such transaction of the app waits here until this one ends, and then reads what it wrote.
 */
export async function lockAttrNames(tx: Transaction<Database>, appId: number): Promise<void> {
  await lockForApp(tx, appId, 'attr_names');
}

export async function putAttrNames(tx: Transaction<Database>, appId: number, names: readonly AttrName[]): Promise<void> {
  // names may move between slots: clear the slots being written first so the unique name index holds
  if (names.length === 0) return;
  await tx.deleteFrom('attr_names').where('app_id', '=', appId).where('slot', 'in', names.map((n) => n.slot)).execute();
  await tx.insertInto('attr_names').values(names.map((n) => ({ app_id: appId, slot: n.slot, name: n.name, account_type: n.accountType }))).execute();
}

export interface AttrValue {
  account: string;
  slot: number;
  value: string;
}

/** Sets attribute values; an (account, attribute) given twice takes the last value given. */
export async function putAttrs(db: Db, appId: number, values: readonly AttrValue[]): Promise<void> {
  // one upsert cannot touch a row twice (PostgreSQL refuses: "cannot affect row a second time")
  const last = new Map<string, AttrValue>();
  for (const v of values) last.set(JSON.stringify([v.account, v.slot]), v);
  for (const part of chunks([...last.values()], 300)) {
    await db
      .insertInto('account_attrs')
      .values(part.map((v) => ({ app_id: appId, slot: v.slot, account: v.account, value: v.value })))
      .onConflict((oc) => oc.columns(['app_id', 'account', 'slot']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
  }
}

export async function attrsOf(db: Db, appId: number, accounts: readonly string[]): Promise<AttrValue[]> {
  if (accounts.length === 0) return [];
  return db.selectFrom('account_attrs').select(['account', 'slot', 'value']).where('app_id', '=', appId).where('account', 'in', accounts).orderBy('slot').execute();
}

export async function deleteAttrs(db: Db, appId: number, keys: readonly { account: string; slot: number }[]): Promise<void> {
  for (const part of chunks(keys, 400)) {
    await db
      .deleteFrom('account_attrs')
      .where('app_id', '=', appId)
      .where(sql<boolean>`(account, slot) in (values ${sql.join(part.map((k) => sql`(${k.account}, cast(${k.slot} as bigint))`))})`)
      .execute();
  }
}

// ---- tags ----

export async function tagTypes(db: Db, appId: number, tags: readonly string[]): Promise<Map<string, AccountType>> {
  const out = new Map<string, AccountType>();
  for (const part of chunks([...new Set(tags)], 500)) {
    const rows = await db.selectFrom('tag_types').select(['tag', 'account_type']).where('app_id', '=', appId).where('tag', 'in', part).execute();
    for (const r of rows) out.set(r.tag, r.account_type as AccountType);
  }
  return out;
}

export async function countTagTypes(db: Db, appId: number): Promise<number> {
  const r = await db.selectFrom('tag_types').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function putTagTypes(db: Db, appId: number, types: ReadonlyMap<string, AccountType>): Promise<void> {
  const rows = [...types].map(([tag, t]) => ({ app_id: appId, tag, account_type: t }));
  for (const part of chunks(rows, 300)) await db.insertInto('tag_types').values(part).onConflict((oc) => oc.doNothing()).execute();
}

export async function tagsOf(db: Db, appId: number, accounts: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (accounts.length === 0) return out;
  const rows = await db.selectFrom('account_tags').select(['account', 'tag']).where('app_id', '=', appId).where('account', 'in', accounts).orderBy('tag').execute();
  for (const r of rows) {
    const list = out.get(r.account);
    if (list) list.push(r.tag);
    else out.set(r.account, [r.tag]);
  }
  return out;
}

export async function addTags(db: Db, appId: number, pairs: readonly { account: string; tag: string }[]): Promise<void> {
  for (const part of chunks(pairs, 300)) {
    await db.insertInto('account_tags').values(part.map((p) => ({ app_id: appId, account: p.account, tag: p.tag }))).onConflict((oc) => oc.doNothing()).execute();
  }
}

export async function removeTags(db: Db, appId: number, pairs: readonly { account: string; tag: string }[]): Promise<void> {
  for (const part of chunks(pairs, 400)) {
    await db
      .deleteFrom('account_tags')
      .where('app_id', '=', appId)
      .where(sql<boolean>`(account, tag) in (values ${sql.join(part.map((p) => sql`(${p.account}, ${p.tag})`))})`)
      .execute();
  }
}

export async function clearTags(db: Db, appId: number, accounts: readonly string[]): Promise<void> {
  for (const part of chunks(accounts, 500)) await db.deleteFrom('account_tags').where('app_id', '=', appId).where('account', 'in', part).execute();
}

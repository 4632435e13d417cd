import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The tables whose ids an app counts (1, 2, …), each with its id column. */
const ID_COLUMNS = {
  certificates: 'cert_id',
  sched_tasks: 'sched_id',
  push_templates: 'template_id',
} as const;
type Counted = keyof typeof ID_COLUMNS;

/**
 * The app's counter `name`, advanced by one and returned, in one upsert. On PostgreSQL the upsert
 * is atomic against concurrent ones (a second waits for the first's row, then adds to it), and it
 * holds the row's lock until the transaction it runs in ends; SQLite runs one statement at a time.
 * A counter without a row starts from `first`.
 */
async function advance(db: Db, appId: number, name: string, first: RawBuilder<number>): Promise<number> {
  const row = await db
    .insertInto('app_counters')
    .values({ app_id: appId, name, value: first })
    .onConflict((oc) => oc.columns(['app_id', 'name']).doUpdateSet((eb) => ({ value: eb('app_counters.value', '+', 1) })))
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

/**
 * The app's next id in `table`; never one handed out before, even if its row was deleted since.
 * A store that has rows from before the counter existed goes on after its highest id.
 */
export function nextId(db: Db, appId: number, table: Counted): Promise<number> {
  const column = ID_COLUMNS[table];
  return advance(db, appId, table, sql<number>`(select coalesce(max(${sql.ref(column)}), 0) + 1 from ${sql.table(table)} where app_id = ${appId})`);
}

/**
 * Makes the calling transaction the only one of this app holding `name` until it ends: on
 * PostgreSQL the counter row stays locked until commit, so a second caller waits there and then
 * reads what the first one wrote.
 */
export async function lockForApp(tx: Transaction<Database>, appId: number, name: string): Promise<void> {
  await advance(tx, appId, `lock:${name}`, sql<number>`1`);
}

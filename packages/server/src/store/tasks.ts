import type { Kysely, Transaction } from 'kysely';
import type { Database, TasksTable } from './schema.js';

export type TaskRow = TasksTable;

export async function insertTask(tx: Transaction<Database> | Kysely<Database>, row: TaskRow): Promise<void> {
  await tx.insertInto('tasks').values(row).execute();
}

export async function findTask(db: Kysely<Database>, appId: number, taskId: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('app_id', '=', appId).where('task_id', '=', taskId).executeTakeFirst();
}

export async function setTaskStatus(db: Kysely<Database>, appId: number, taskId: string, status: string): Promise<void> {
  await db.updateTable('tasks').set({ status }).where('app_id', '=', appId).where('task_id', '=', taskId).execute();
}

/** Moves many tasks from one status to another in one statement per app. */
export async function setStatusMany(db: Kysely<Database>, keys: readonly { appId: number; taskId: string }[], from: string, to: string): Promise<void> {
  const byApp = new Map<number, string[]>();
  for (const k of keys) {
    const list = byApp.get(k.appId);
    if (list) list.push(k.taskId);
    else byApp.set(k.appId, [k.taskId]);
  }
  for (const [appId, ids] of byApp) {
    await db.updateTable('tasks').set({ status: to }).where('app_id', '=', appId).where('task_id', 'in', ids).where('status', '=', from).execute();
  }
}

export async function tasksInStatus(db: Kysely<Database>, status: string, limit: number): Promise<TaskRow[]> {
  return db.selectFrom('tasks').selectAll().where('status', '=', status).orderBy('created_at').limit(limit).execute();
}

/**
 * Claims (app, kind, MsgRandom) for a new task. Returns null when the claim is ours, or the TaskId of
 * the earlier task that used the same MsgRandom within the window. One upsert, so two concurrent
 * requests with the same MsgRandom cannot both win.
 */
export async function claimMsgRandom(
  tx: Transaction<Database>,
  key: { appId: number; kind: string; msgRandom: number; taskId: string },
  now: number,
  windowMs: number,
): Promise<string | null> {
  const cutoff = now - windowMs;
  const won = await tx
    .insertInto('msg_randoms')
    .values({ app_id: key.appId, kind: key.kind, msg_random: key.msgRandom, task_id: key.taskId, created_at: now })
    .onConflict((oc) =>
      oc
        .columns(['app_id', 'kind', 'msg_random'])
        .doUpdateSet({ task_id: key.taskId, created_at: now })
        .where('msg_randoms.created_at', '<', cutoff),
    )
    .returning('task_id')
    .executeTakeFirst();
  if (won) return null;
  const prior = await tx
    .selectFrom('msg_randoms')
    .select('task_id')
    .where('app_id', '=', key.appId)
    .where('kind', '=', key.kind)
    .where('msg_random', '=', key.msgRandom)
    .executeTakeFirstOrThrow();
  return prior.task_id;
}

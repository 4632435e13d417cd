import type { Selectable } from 'kysely';
import { familyOf } from '../../dispatch/task-id.js';
import { tasks } from '../../store/index.js';
import type { TasksTable } from '../../store/schema.js';
import type { AdminDeps } from './context.js';
import { TimCode, TimError } from './envelope.js';

/** Statistics families (stat_counters.family): Tencent's "all member push" and "normal push" (reference §2.7). */
export const Family = { allMember: 0, normal: 1 } as const;
export type Family = (typeof Family)[keyof typeof Family];

/**
 * The app's push with this id, when it belongs to the family a command answers for: a chat push's
 * PushID given to an all_member_* command (or a batch push's TaskId to a normal_* one) is no push
 * of that command, so Tencent's 90049 like any unknown id.
 */
export async function familyTask(deps: AdminDeps, appId: number, id: string, family: Family, field = 'TaskID'): Promise<Selectable<TasksTable>> {
  const task = familyOf(id) === family ? await tasks.findTask(deps.db, appId, id) : undefined;
  if (!task) throw new TimError(TimCode.noSuchTask, `no push with ${field} ${id}`);
  return task;
}

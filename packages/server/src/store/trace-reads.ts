import type { Kysely, Selectable } from 'kysely';
import type { ClicksTable, Database, DevicesTable, LossesTable, TraceEventsTable } from './schema.js';
import { chunks } from '../util/chunks.js';

/**
 * What the store holds about one push and a few devices, for the message link
 * (stats/push-trace.ts): one indexed query per table for all the devices together.
 */

export type TraceDevice = Selectable<DevicesTable>;

/** The devices bound to a UserID, or the one device with this RegistrationID. */
export async function traceDevices(db: Kysely<Database>, appId: number, by: { userId: string } | { registrationId: string }): Promise<TraceDevice[]> {
  let q = db.selectFrom('devices').selectAll().where('app_id', '=', appId);
  q = 'userId' in by ? q.where('user_id', '=', by.userId) : q.where('registration_id', '=', by.registrationId);
  return q.orderBy('registration_id').execute();
}

/** The devices with these RegistrationIDs or bound to these UserIDs, 500 ids a query. */
export async function traceDevicesOf(db: Kysely<Database>, appId: number, by: { registrationIds: readonly string[]; userIds: readonly string[] }): Promise<TraceDevice[]> {
  const out = new Map<string, TraceDevice>();
  const parts = [...chunks([...new Set(by.registrationIds)], 500).map((p) => ['registration_id', p] as const), ...chunks([...new Set(by.userIds)], 500).map((p) => ['user_id', p] as const)];
  for (const [column, part] of parts) {
    for (const d of await db.selectFrom('devices').selectAll().where('app_id', '=', appId).where(column, 'in', part).execute()) out.set(d.registration_id, d);
  }
  return [...out.values()].sort((a, b) => (a.registration_id < b.registration_id ? -1 : 1));
}

export interface InboxTrace {
  registration_id: string;
  created_at: number;
  deliver_after: number;
  sent_at: number | null;
  acked_at: number | null;
  vendor_sent: number;
}

export interface DeviceRows {
  inbox: InboxTrace[];
  losses: Selectable<LossesTable>[];
  clicks: Selectable<ClicksTable>[];
  events: Selectable<TraceEventsTable>[];
}

/** Every row the push left for these devices; without `registrationIds`, for every device (one query per table either way). */
export async function deviceRows(db: Kysely<Database>, appId: number, taskId: string, registrationIds?: readonly string[]): Promise<DeviceRows> {
  if (registrationIds?.length === 0) return { inbox: [], losses: [], clicks: [], events: [] };
  const ids = registrationIds ? [...registrationIds] : [];
  const some = registrationIds !== undefined;
  const [inbox, losses, clicks, events] = await Promise.all([
    db
      .selectFrom('inbox')
      .select(['registration_id', 'created_at', 'deliver_after', 'sent_at', 'acked_at', 'vendor_sent'])
      .where('app_id', '=', appId)
      .where('task_id', '=', taskId)
      .$if(some, (q) => q.where('registration_id', 'in', ids))
      .execute(),
    db.selectFrom('losses').selectAll().where('app_id', '=', appId).where('task_id', '=', taskId).$if(some, (q) => q.where('registration_id', 'in', ids)).execute(),
    db.selectFrom('clicks').selectAll().where('app_id', '=', appId).where('task_id', '=', taskId).$if(some, (q) => q.where('registration_id', 'in', ids)).execute(),
    db.selectFrom('trace_events').selectAll().where('app_id', '=', appId).where('task_id', '=', taskId).$if(some, (q) => q.where('registration_id', 'in', ids)).orderBy('at').execute(),
  ]);
  return { inbox: inbox.map((r) => ({ ...r, deliver_after: Number(r.deliver_after), vendor_sent: Number(r.vendor_sent) })), losses, clicks, events };
}

import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { events, inbox } from '../store/index.js';
import { Batcher } from '../util/batcher.js';
import { groupBy } from '../util/group-by.js';
import { chunks } from '../util/chunks.js';
import { EventType, platformOf } from './platforms.js';
import type { StatEntry, StatsRecorder } from './recorder.js';

type GatewayEvent =
  | { kind: 'sent'; appId: number; registrationId: string; seqs: number[]; at: number }
  | { kind: 'acked'; appId: number; registrationId: string; seqs: number[]; at: number }
  | { kind: 'clicked'; appId: number; registrationId: string; taskId: string; at: number };

/**
 * What the gateway channel reports, written in batches: messages handed to a session (the first
 * hand-over of an inbox row is its `sent`, kept as inbox.sent_at), acks (`reached`, the row's
 * acked_at) and clicks. One queue keeps them in order, so an ack is never written before the send
 * it answers; each flush is one transaction that also writes the counts.
 */
export class Receipts {
  private queue: Batcher<GatewayEvent>;

  constructor(
    private db: Kysely<Database>,
    private stats: StatsRecorder,
    onError: (err: unknown) => void,
  ) {
    this.queue = new Batcher((items) => this.write(items), onError);
  }

  sent(appId: number, registrationId: string, seqs: number[]): void {
    if (seqs.length > 0) this.queue.add({ kind: 'sent', appId, registrationId, seqs, at: Date.now() });
  }

  acked(appId: number, registrationId: string, seqs: number[]): void {
    this.queue.add({ kind: 'acked', appId, registrationId, seqs, at: Date.now() });
  }

  clicked(appId: number, registrationId: string, taskId: string): void {
    this.queue.add({ kind: 'clicked', appId, registrationId, taskId, at: Date.now() });
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  private async write(items: GatewayEvent[]): Promise<void> {
    const at = items[items.length - 1]!.at;
    const acks = items.filter((i) => i.kind === 'acked');
    // an acked row was handed over even if its send was not reported (a session on its way out)
    const handed = [...items.filter((i) => i.kind === 'sent'), ...acks];
    const clicks = items.filter((i) => i.kind === 'clicked');
    await this.db.transaction().execute(async (tx) => {
      const entries: StatEntry[] = [];
      const online = (metric: 'sent' | 'reached', rows: readonly { app_id: number; task_id: string; registration_id: string }[]) => {
        for (const list of groupBy(rows, (r) => `${r.app_id}\u0000${r.task_id}`).values()) {
          entries.push({ appId: list[0]!.app_id, taskId: list[0]!.task_id, eventType: EventType.online, metric, at, devices: list.map((r) => ({ registrationId: r.registration_id, platform: 0 })) });
        }
      };
      online('sent', await inbox.markSent(tx, merge(handed), at));
      online('reached', await inbox.markAcked(tx, merge(acks), at));
      const clicked = await events.insertClicks(tx, clicks.map((c) => ({ app_id: c.appId, task_id: c.taskId, registration_id: c.registrationId, created_at: c.at })));
      entries.push(...(await this.clickEntries(tx, clicked, at)));
      await this.stats.write(tx, entries);
    });
  }

  /**
   * A click counts on the channel that reached the device: the gateway when the device acked the
   * message there, else its vendor (the notification it tapped came from the vendor channel).
   */
  private async clickEntries(tx: Parameters<StatsRecorder['write']>[0], clicked: readonly { app_id: number; task_id: string; registration_id: string }[], at: number): Promise<StatEntry[]> {
    const out: StatEntry[] = [];
    for (const [appId, all] of groupBy(clicked, (c) => c.app_id)) {
      // a click on something that is not one of the app's pushes is kept but not counted
      const known = new Set<string>();
      for (const part of chunks([...new Set(all.map((c) => c.task_id))], 400)) {
        for (const t of await tx.selectFrom('tasks').select('task_id').where('app_id', '=', appId).where('task_id', 'in', part).execute()) known.add(t.task_id);
      }
      const list = all.filter((c) => known.has(c.task_id));
      const viaGateway = new Set<string>();
      const vendorOf = new Map<string, string | null>();
      for (const part of chunks(list, 400)) {
        const ids = part.map((c) => c.registration_id);
        const acked = await tx.selectFrom('inbox').select(['task_id', 'registration_id']).where('app_id', '=', appId).where('registration_id', 'in', ids).where('task_id', 'in', [...new Set(part.map((c) => c.task_id))]).where('acked_at', 'is not', null).execute();
        for (const a of acked) viaGateway.add(`${a.task_id}\u0000${a.registration_id}`);
        for (const d of await tx.selectFrom('devices').select(['registration_id', 'vendor']).where('app_id', '=', appId).where('registration_id', 'in', ids).execute()) vendorOf.set(d.registration_id, d.vendor);
      }
      for (const [taskId, ofTask] of groupBy(list, (c) => c.task_id)) {
        const gw = ofTask.filter((c) => viaGateway.has(`${taskId}\u0000${c.registration_id}`));
        const vendor = ofTask.filter((c) => !viaGateway.has(`${taskId}\u0000${c.registration_id}`));
        if (gw.length > 0) out.push({ appId, taskId, eventType: EventType.online, metric: 'clicked', at, devices: gw.map((c) => ({ registrationId: c.registration_id, platform: 0 })) });
        if (vendor.length > 0) out.push({ appId, taskId, eventType: EventType.offline, metric: 'clicked', at, devices: vendor.map((c) => ({ registrationId: c.registration_id, platform: platformOf(vendorOf.get(c.registration_id)) })) });
      }
    }
    return out;
  }
}

function merge(items: readonly { appId: number; registrationId: string; seqs: number[] }[]): inbox.AckKey[] {
  const byDevice = new Map<string, inbox.AckKey>();
  for (const a of items) {
    const k = `${a.appId}:${a.registrationId}`;
    const cur = byDevice.get(k);
    if (cur) cur.seqs.push(...a.seqs);
    else byDevice.set(k, { appId: a.appId, registrationId: a.registrationId, seqs: [...a.seqs] });
  }
  return [...byDevice.values()];
}

import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import { events, inbox } from '../store/index.js';
import { Batcher } from '../util/batcher.js';

interface Ack {
  appId: number;
  registrationId: string;
  seqs: number[];
  at: number;
}

interface Click {
  appId: number;
  registrationId: string;
  taskId: string;
  at: number;
}

/**
 * Device receipts: acks (the "reached" receipt, kept as the inbox row's acked_at) and clicks.
 * They arrive one frame at a time and are written in batches.
 */
export class Receipts {
  private acks: Batcher<Ack>;
  private clicks: Batcher<Click>;

  constructor(db: Kysely<Database>, onError: (err: unknown) => void) {
    this.acks = new Batcher<Ack>(async (items) => {
      // one statement per flush; all acks in a flush share the flush time within a few ms
      await inbox.markAcked(db, mergeAcks(items), items[items.length - 1]!.at);
    }, onError);
    this.clicks = new Batcher<Click>(async (items) => {
      await events.insertClicks(db, items.map((c) => ({ app_id: c.appId, task_id: c.taskId, registration_id: c.registrationId, created_at: c.at })));
    }, onError);
  }

  acked(appId: number, registrationId: string, seqs: number[]): void {
    this.acks.add({ appId, registrationId, seqs, at: Date.now() });
  }

  clicked(appId: number, registrationId: string, taskId: string): void {
    this.clicks.add({ appId, registrationId, taskId, at: Date.now() });
  }

  async flush(): Promise<void> {
    await Promise.all([this.acks.flush(), this.clicks.flush()]);
  }
}

function mergeAcks(items: Ack[]): inbox.AckKey[] {
  const byDevice = new Map<string, inbox.AckKey>();
  for (const a of items) {
    const k = `${a.appId}:${a.registrationId}`;
    const cur = byDevice.get(k);
    if (cur) cur.seqs.push(...a.seqs);
    else byDevice.set(k, { appId: a.appId, registrationId: a.registrationId, seqs: [...a.seqs] });
  }
  return [...byDevice.values()];
}

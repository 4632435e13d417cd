import type { Kysely } from 'kysely';
import type { Delivery } from '../cluster/index.js';
import type { Database } from '../store/index.js';
import { inbox } from '../store/index.js';
import { FrameRenderer, type StoredMessage } from './message.js';

/** A device's waiting messages as ready-to-send frames, for the gateway's resume after connect. */
export async function loadBacklog(db: Kysely<Database>, appId: number, registrationId: string, locale: string | null, afterSeq: number, limit: number, now = Date.now()): Promise<Delivery[]> {
  const rows = await inbox.pendingFor(db, appId, registrationId, now, afterSeq, limit);
  const renderers = new Map<string, FrameRenderer>();
  return rows.map((r) => {
    let renderer = renderers.get(r.task_id);
    if (!renderer) renderers.set(r.task_id, (renderer = new FrameRenderer(r.task_id, JSON.parse(r.message) as StoredMessage)));
    return { registrationId, seq: r.seq, frame: renderer.frame(r.seq, locale) };
  });
}

import type { Delivery, Router } from '../cluster/index.js';
import type { OfflineChannels } from '../channels/index.js';
import { FrameRenderer, type StoredMessage } from './message.js';

/** A device a stored single or batch push goes to: its inbox seq, language and badge. */
export interface HandOverTarget {
  registrationId: string;
  seq: number;
  locale: string | null;
  /** Its user's unread count (chat pushes). */
  badge?: number;
}

export interface HandOverDeps {
  router: Router;
  offline: OfflineChannels;
}

/**
 * Hands a stored push to the live sessions of its devices; with PushFlag 0, the devices without one
 * go to their vendors. Used when the push is accepted and again, for what is still owed, when
 * another process takes over a push whose process died midway (batch-recovery.ts).
 */
export async function handOver(deps: HandOverDeps, appId: number, taskId: string, message: StoredMessage, targets: readonly HandOverTarget[]): Promise<void> {
  if (targets.length === 0) return;
  const renderer = new FrameRenderer(taskId, message);
  const deliveries: Delivery[] = targets.map((t) => ({ registrationId: t.registrationId, seq: t.seq, frame: renderer.frame(t.seq, t.locale, t.badge) }));
  await deps.router.deliver(appId, deliveries);
  if (message.info.PushFlag !== 0) return;
  const online = await deps.router.online(appId, deliveries.map((d) => d.registrationId));
  const away = online.size === 0 ? targets : targets.filter((t) => !online.has(t.registrationId));
  if (away.length === 0) return;
  await deps.offline.sendOffline({ appId, taskId, targets: away.map((t) => ({ registrationId: t.registrationId, seq: t.seq, ...(t.badge !== undefined ? { badge: t.badge } : {}) })) });
}

import type { CallbackStatus } from './outbox.js';
import { maskToken, type CallbackConfig } from './settings.js';

/** The app's callback as get_callback and the CLI show it: Tencent-style field names, the token masked. */
export function callbackView(c: CallbackConfig | undefined, s: CallbackStatus): Record<string, unknown> {
  return {
    Url: c?.url ?? '',
    Token: c?.token ? maskToken(c.token) : '',
    Enabled: c?.enabled ? 1 : 0,
    MaxPerSecond: c?.maxPerSecond ?? 0,
    Pending: s.pending,
    PendingEvents: s.pendingEvents,
    Dead: s.dead,
    DeadEvents: s.deadEvents,
    LastError: s.lastError ?? '',
  };
}

import { z } from 'zod';
import { callbackView, CallbackFields, readCallbackConfig, saveCallbackConfig } from '../../callbacks/index.js';
import { callbackOutbox } from '../../store/index.js';
import type { AdminCommand } from './context.js';
import { TimCode, TimError } from './envelope.js';
import { parseBody } from './input.js';

/**
 * `v4/timpush/set_callback` and `get_callback` (Herald's; Tencent sets its callback URL in the
 * console): where the app's `Push.AllMemberPush` events are posted, the token that signs them,
 * the switch, the pace, and the rows waiting or dead. Fields left out stay as they are.
 */
const SetBody = z.strictObject({
  Url: CallbackFields.url.optional(),
  /** '' or null removes it; the masked value get_callback shows keeps it. */
  Token: CallbackFields.token.nullable().optional(),
  Enabled: z.union([z.literal(0), z.literal(1)]).optional(),
  /** Requests a second; 0 = Herald's default. */
  MaxPerSecond: CallbackFields.maxPerSecond.optional(),
  /** Put the dead rows back in the queue, or delete them. */
  RetryDead: z.literal(1).optional(),
  DropDead: z.literal(1).optional(),
});

export const setCallback: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(SetBody, body);
    if (b.RetryDead && b.DropDead) throw new TimError(TimCode.jsonParse, 'RetryDead and DropDead cannot be given together');
    const appId = caller.app.sdkAppId;
    const out: Record<string, unknown> = {};
    if (b.Url !== undefined || b.Token !== undefined || b.Enabled !== undefined || b.MaxPerSecond !== undefined) {
      const r = await saveCallbackConfig(deps.db, appId, { url: b.Url, token: b.Token, enabled: b.Enabled === undefined ? undefined : b.Enabled === 1, maxPerSecond: b.MaxPerSecond });
      if (!r.ok) throw new TimError(TimCode.jsonParse, r.message);
    }
    if (b.RetryDead) out.Retried = await callbackOutbox.retryDead(deps.db, appId, Date.now());
    if (b.DropDead) out.Dropped = await callbackOutbox.dropDead(deps.db, appId);
    deps.callbacks.changed(appId);
    return { ...callbackView(await readCallbackConfig(deps.db, appId), await deps.callbacks.status(appId)), ...out };
  },
};

export const getCallback: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, _body, deps) {
    const appId = caller.app.sdkAppId;
    return callbackView(await readCallbackConfig(deps.db, appId), await deps.callbacks.status(appId));
  },
};

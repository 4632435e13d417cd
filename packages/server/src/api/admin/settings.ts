import { z } from 'zod';
import { PushPolicy } from '../../dispatch/index.js';
import { apps } from '../../store/index.js';
import type { AdminCommand } from './context.js';
import { TimCode } from './envelope.js';
import { parseBody } from './input.js';

/**
 * `v4/timpush/set_push_settings` and `get_push_settings` (Herald's): quiet hours in each device's
 * time zone and a per-user daily cap on all-users and tag pushes. Fields left out stay as they are;
 * `QuietHours: null` and `DailyLimit: 0` switch them off.
 */
const SetBody = z.object({
  QuietHours: z.object({ Start: z.string(), End: z.string() }).nullable().optional(),
  DailyLimit: z.number().int().min(0).max(1000).optional(),
});

async function current(deps: Parameters<AdminCommand['handle']>[2], appId: number): Promise<{ settings: Record<string, unknown>; policy: PushPolicy }> {
  const settings = await apps.getSettings(deps.db, appId);
  const r = PushPolicy.safeParse(settings.push ?? {});
  return { settings, policy: r.success ? r.data : {} };
}

function view(p: PushPolicy): Record<string, unknown> {
  return { QuietHours: p.quietHours ? { Start: p.quietHours.start, End: p.quietHours.end } : null, DailyLimit: p.dailyLimit ?? 0 };
}

export const setPushSettings: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, body, deps) {
    const b = parseBody(SetBody, body);
    const appId = caller.app.sdkAppId;
    const { settings, policy } = await current(deps, appId);
    const next: PushPolicy = { ...policy };
    if (b.QuietHours !== undefined) next.quietHours = b.QuietHours ? { start: b.QuietHours.Start, end: b.QuietHours.End } : null;
    if (b.DailyLimit !== undefined) next.dailyLimit = b.DailyLimit;
    const checked = parseBody(PushPolicy, next);
    await apps.putSettings(deps.db, appId, { ...settings, push: checked });
    return view(checked);
  },
};

export const getPushSettings: AdminCommand = {
  adminCode: TimCode.pushNeedAdmin,
  async handle(caller, _body, deps) {
    return view((await current(deps, caller.app.sdkAppId)).policy);
  },
};

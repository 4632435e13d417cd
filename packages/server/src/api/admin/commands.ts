import { batchCommand } from './batch.js';
import type { AdminCommand } from './context.js';

/** Every `v4/timpush/{command}` Herald answers, by Tencent's command name. */
export const adminCommands: Readonly<Record<string, AdminCommand>> = {
  batch: batchCommand,
};

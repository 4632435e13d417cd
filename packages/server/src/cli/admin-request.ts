import type { Command } from 'commander';
import { genUserSig } from '../auth/usersig.js';
import { int } from './options.js';

export interface AdminTarget {
  server: string;
  sdkAppId: number;
  identifier: string;
  secretKey: string;
}

/** The URL of an admin command, signed with a fresh short-lived UserSig (reference §1.1). */
export function adminUrl(t: AdminTarget, command: string): string {
  const q = new URLSearchParams({
    sdkappid: String(t.sdkAppId),
    identifier: t.identifier,
    usersig: genUserSig(t.sdkAppId, t.secretKey, t.identifier, 3600),
    random: String(Math.floor(Math.random() * 0xffffffff)),
    contenttype: 'json',
  });
  return `${t.server.replace(/\/$/, '')}/v4/timpush/${command}?${q}`;
}

export async function callAdmin(t: AdminTarget, command: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(adminUrl(t, command), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

/** The options a command needs to reach the admin API, as `herald push` takes them. */
export interface ConnectionOptions {
  sdkappid: number;
  server: string;
  identifier: string;
  key?: string;
}

/** Adds --sdkappid, --server, --identifier and --key to a command that calls the admin API. */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--sdkappid <n>', 'SDKAppID', int)
    .option('--server <url>', 'Herald base URL', process.env.HERALD_URL ?? 'http://127.0.0.1:8080')
    .option('--identifier <id>', 'admin identifier', 'administrator')
    .option('--key <key>', "the app's secret key (default: read from the local store)", process.env.HERALD_SECRET_KEY);
}

/** Where and as whom to call: the secret key from --key, or else from the local store. */
export async function adminTarget(o: ConnectionOptions, secretKeyOf: (sdkAppId: number) => Promise<string | undefined>): Promise<AdminTarget> {
  const secretKey = o.key ?? (await secretKeyOf(o.sdkappid));
  if (!secretKey) throw new Error(`no secret key: pass --key, or run where the store of app ${o.sdkappid} is`);
  return { server: o.server, sdkAppId: o.sdkappid, identifier: o.identifier, secretKey };
}

import { genUserSig } from '../auth/usersig.js';

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

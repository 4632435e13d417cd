import { z } from 'zod';

/** Frames a device may send (docs/protocol.md §3.3). Unknown fields are ignored. */
export const ClientFrame = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('auth'),
    sdkAppId: z.number().int().positive(),
    registrationId: z.string().min(1).max(128),
    credential: z.string().min(1).max(256),
    sdkVersion: z.string().max(64).optional(),
  }),
  z.object({ t: z.literal('ack'), seqs: z.array(z.number().int().positive()).min(1).max(500) }),
  z.object({ t: z.literal('click'), id: z.string().min(1).max(128) }),
  z.object({ t: z.literal('ping') }),
  z.object({ t: z.literal('pong') }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; message: string };

export function parseClientFrame(data: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, message: 'frame is not JSON' };
  }
  const r = ClientFrame.safeParse(json);
  if (r.success) return { ok: true, frame: r.data };
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 't';
  return { ok: false, message: `${where}: ${issue?.message ?? 'invalid frame'}` };
}

// Server frames that carry no data are sent as constants.
export const PING = '{"t":"ping"}';
export const PONG = '{"t":"pong"}';

export function readyFrame(registrationId: string, heartbeatSeconds: number, serverTime: number): string {
  return JSON.stringify({ t: 'ready', registrationId, heartbeatSeconds, serverTime });
}

export function errorFrame(code: string, message: string): string {
  return JSON.stringify({ t: 'error', code, message });
}

export function revokeFrame(id: string): string {
  return JSON.stringify({ t: 'revoke', id });
}

/** Close codes (docs/protocol.md §3.5). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  invalidFrame: 4400,
  authFailed: 4401,
  timeout: 4408,
  replaced: 4409,
  /** Too many failed authentications from this address or for this app: retry after a while. */
  rateLimited: 4429,
} as const;

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestHerald } from './herald.js';
import type { VendorMessage } from '../../src/channels/vendor.js';

/** A loopback endpoint that keeps what vendors' emulators post to it, as a receipt URL for adapter-level tests. */
export async function receiptCapture(): Promise<{ url: string; posts: { body: Buffer; contentType: string }[]; close(): Promise<void> }> {
  const posts: { body: Buffer; contentType: string }[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    posts.push({ body: Buffer.concat(chunks), contentType: String(req.headers['content-type'] ?? '') });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"code":0}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/receipts`,
    posts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A one-language push as VendorChannels hands it to an adapter. */
export function plainMessage(taskId: string, title = 'title', desc = 'text', ttlMs = 60_000): VendorMessage {
  const expiresAt = Date.now() + ttlMs;
  return { taskId, expiresAt, variant: () => '', render: () => ({ title, desc, from: 'administrator', sentAt: Date.now(), expiresAt, info: { PushFlag: 0 } }) };
}

/** The vendor token a device has now (null once a vendor called it dead). */
export async function tokenOf(h: TestHerald, registrationId: string): Promise<string | null> {
  return (await h.herald.store.db.selectFrom('devices').select('token').where('registration_id', '=', registrationId).executeTakeFirstOrThrow()).token;
}

/** What a device's notification permission is recorded as ('denied' once a vendor said its notifications are off). */
export async function permissionOf(h: TestHerald, registrationId: string): Promise<string | null> {
  return (await h.herald.store.db.selectFrom('devices').select('notification_permission').where('registration_id', '=', registrationId).executeTakeFirstOrThrow()).notification_permission;
}

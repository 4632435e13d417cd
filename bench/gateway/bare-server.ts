/**
 * The baseline: a bare `ws` server doing the same work as Herald's push path with nothing else: the
 * same auth → ready handshake against an in-memory map, `POST /push` taking the same JSON body and
 * sending the same shape of `msg` frame to the one device it names, acks counted. No database, no
 * framework, no validation beyond what the work needs. `POST /broadcast` (for bench/fanout) takes the
 * same body without `To_Account` and sends the frame to every connected device.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DeviceEntry } from './protocol.js';
import { serveIpc } from './server-ipc.js';

const HEARTBEAT_SECONDS = 30;
const EXPIRE_MS = 72 * 3600_000;

interface Device {
  credential: string;
  seq: number;
  ws: WebSocket | null;
}

const devicesFile = process.argv[2];
if (!devicesFile) throw new Error('usage: bare-server.ts <devicesFile>');
// The baseline's "store": every device's credential, in memory (Herald's are in SQLite).
const devices = new Map<string, Device>();
for (const d of JSON.parse(fs.readFileSync(devicesFile, 'utf8')) as DeviceEntry[]) devices.set(d.r, { credential: d.c, seq: 0, ws: null });
let acks = 0;
let tasks = 0;

const server = http.createServer((req, res) => {
  const broadcast = req.url?.startsWith('/broadcast') ?? false;
  if (req.method !== 'POST' || !(broadcast || req.url?.startsWith('/push'))) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let reply: Record<string, unknown>;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { From_Account: string; To_Account: string[]; OfflinePushInfo: { Title?: string; Desc?: string; Ext?: string } };
      const taskId = `batch_${(++tasks).toString(16)}_${crypto.randomBytes(6).toString('hex')}`;
      const now = Date.now();
      const info = body.OfflinePushInfo;
      // Same fields as Herald's `m` (docs/protocol.md §3.2), serialized once per push.
      const m = JSON.stringify({ title: info.Title ?? '', desc: info.Desc ?? '', ext: info.Ext, from: body.From_Account, sentAt: now, expiresAt: now + EXPIRE_MS, info });
      for (const d of broadcast ? devices.values() : body.To_Account.map((id) => devices.get(id))) {
        if (!d?.ws) continue;
        d.ws.send(`{"t":"msg","seq":${++d.seq},"id":${JSON.stringify(taskId)},"m":${m}}`);
      }
      reply = { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, TaskId: taskId };
    } catch {
      reply = { ActionStatus: 'FAIL', ErrorInfo: 'bad body', ErrorCode: 90001 };
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  });
});

const wss = new WebSocketServer({ server, path: '/gateway/v1', perMessageDeflate: false, clientTracking: false, maxPayload: 16 * 1024 });
wss.on('connection', (ws) => {
  let device: Device | null = null;
  ws.on('message', (data) => {
    let f: { t?: string; registrationId?: string; credential?: string };
    try {
      f = JSON.parse(data.toString()) as typeof f;
    } catch {
      ws.close(4400, 'frame is not JSON');
      return;
    }
    if (!device) {
      const d = f.t === 'auth' && typeof f.registrationId === 'string' ? devices.get(f.registrationId) : undefined;
      if (!d || d.credential !== f.credential) {
        ws.close(4401, 'unknown device or wrong credential');
        return;
      }
      d.ws?.close(4409, 'replaced by a newer connection');
      d.ws = ws;
      device = d;
      ws.send(JSON.stringify({ t: 'ready', registrationId: f.registrationId, heartbeatSeconds: HEARTBEAT_SECONDS, serverTime: Date.now() }));
      return;
    }
    if (f.t === 'ack') acks++;
    else if (f.t === 'ping') ws.send('{"t":"pong"}');
  });
  ws.on('close', () => {
    if (device?.ws === ws) device.ws = null;
  });
  ws.on('error', () => {});
});

async function stop(): Promise<void> {
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveIpc(`http://127.0.0.1:${port}`, stop);
});

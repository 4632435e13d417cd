/**
 * One fan-out client process: holds its share of the connected devices with plain `ws` (same
 * handshake as bench/gateway/clients.ts), records every `msg` frame each device gets with its
 * receipt time, and acks as a device does, in batches: the seqs each socket received are sent in one
 * `ack` frame per socket every 50 ms.
 */
import fs from 'node:fs';
import { WebSocket } from 'ws';
import type { ClientStart, DeviceEntry } from '../gateway/protocol.js';
import { nowMs } from '../gateway/stats.js';
import type { ClientProgress, FanoutReport, ReportRequest } from './protocol.js';
import { connectDevice } from '../device-connect.js';

const ACK_EVERY_MS = 50;
const MAX_SEQS_PER_ACK = 500; // docs/protocol.md §3.3

const send = (m: unknown) => process.send?.(m);
process.on('disconnect', () => process.exit(1));

interface Receipt {
  id: string;
  at: number;
  bytes: number;
}

/** Per device (index into this process's share): the `msg` frames it got, in order. */
let got: Receipt[][] = [];
let ready = 0;
let failed = 0;
let received = 0;
let unexpectedCloses = 0;
let firstError: string | undefined;
let stopping = false;
const pendingAcks = new Map<WebSocket, number[]>();

function onFrame(ws: WebSocket, device: number, data: Buffer): void {
  const at = nowMs(); // before parsing: receipt is when the frame arrived
  const f = JSON.parse(data.toString()) as { t: string; seq?: number; id?: string };
  if (f.t === 'msg') {
    const list = got[device]!;
    if (list.length === 0) received++;
    list.push({ id: String(f.id), at, bytes: data.length });
    const acks = pendingAcks.get(ws);
    if (acks) acks.push(f.seq!);
    else pendingAcks.set(ws, [f.seq!]);
  } else if (f.t === 'ping') {
    ws.send('{"t":"pong"}');
  }
}

function flushAcks(): void {
  for (const [ws, seqs] of pendingAcks) {
    if (ws.readyState !== WebSocket.OPEN) continue;
    for (let i = 0; i < seqs.length; i += MAX_SEQS_PER_ACK) ws.send(`{"t":"ack","seqs":[${seqs.slice(i, i + MAX_SEQS_PER_ACK).join(',')}]}`);
  }
  pendingAcks.clear();
}

/** Opens one connection and resolves once the server said `ready` (rejects on anything else). */
function connect(o: ClientStart, d: DeviceEntry, device: number, localAddress: string): Promise<void> {
  return connectDevice({ wsUrl: o.wsUrl, sdkAppId: o.sdkAppId, registrationId: d.r, credential: d.c }, localAddress, (ws, data) => onFrame(ws, device, data), (code, reason) => {
    if (stopping) return;
    unexpectedCloses++;
    firstError ??= `device ${d.r} closed ${code} ${reason}`;
  });
}

async function start(o: ClientStart): Promise<void> {
  const mine = (JSON.parse(fs.readFileSync(o.devicesFile, 'utf8')) as DeviceEntry[]).slice(o.from, o.to);
  got = mine.map(() => []);
  const t0 = performance.now();
  const deadline = Date.now() + o.timeoutMs;
  setInterval(flushAcks, ACK_EVERY_MS);
  setInterval(() => send({ type: 'progress', ready, failed, received } satisfies ClientProgress), 200);
  // A fixed number of workers opening connections one after another: bounded in-flight handshakes.
  let next = 0;
  const worker = async () => {
    while (next < mine.length && Date.now() < deadline) {
      const i = next++;
      try {
        await connect(o, mine[i]!, i, o.localAddresses[i % o.localAddresses.length]!);
        ready++;
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, mine.length) }, worker));
  send({ type: 'connected', ready, failed, firstError, ms: performance.now() - t0 });
}

function report(taskId: string): FanoutReport {
  const r: FanoutReport = { type: 'report', devices: ready, exactlyOne: 0, missing: 0, duplicates: 0, otherIds: 0, receipts: [], frameBytes: 0, unexpectedCloses };
  for (const list of got) {
    const mine = list.filter((x) => x.id === taskId);
    r.otherIds += list.length - mine.length;
    if (mine.length === 0) {
      r.missing++;
      continue;
    }
    r.duplicates += mine.length - 1;
    if (list.length === 1) r.exactlyOne++;
    r.receipts.push(mine[0]!.at);
    r.frameBytes ||= mine[0]!.bytes;
  }
  return r;
}

process.on('message', (raw) => {
  const m = raw as ClientStart | ReportRequest | { cmd: 'stop' };
  if (m.cmd === 'start') {
    start(m).catch((err: unknown) => send({ type: 'fatal', error: String(err) }));
  } else if (m.cmd === 'report') {
    send(report(m.taskId));
  } else if (m.cmd === 'stop') {
    stopping = true;
    // The process exit closes every socket at once; a graceful close of thousands adds nothing here.
    process.exit(0);
  }
});

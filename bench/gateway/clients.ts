/**
 * One client process: holds its share of the device connections with plain `ws` (the SDK would add
 * its own cost to the measuring side), authenticates each, acks every `msg` as a device does, and
 * records receipt latency from the send time the pusher put in `Ext`.
 */
import fs from 'node:fs';
import { WebSocket } from 'ws';
import type { ClientReport, ClientStart, DeviceEntry } from './protocol.js';
import { nowMs } from './stats.js';
import { connectDevice } from '../device-connect.js';

const send = (m: unknown) => process.send?.(m);
process.on('disconnect', () => process.exit(1));

const firstSeen = new Map<number, number>(); // push number → latency ms
let duplicates = 0;
let unexpectedCloses = 0;
let ready = 0;
let failed = 0;
let firstError: string | undefined;
let stopping = false;

function onFrame(ws: WebSocket, data: Buffer): void {
  const receivedAt = nowMs(); // before parsing: receipt is when the frame arrived
  const f = JSON.parse(data.toString()) as { t: string; seq?: number; m?: { ext?: string } };
  if (f.t === 'msg') {
    ws.send(`{"t":"ack","seqs":[${f.seq}]}`);
    const ext = JSON.parse(f.m?.ext ?? '{}') as { n?: number; t?: number };
    if (typeof ext.n !== 'number' || typeof ext.t !== 'number') return;
    if (firstSeen.has(ext.n)) duplicates++;
    else firstSeen.set(ext.n, receivedAt - ext.t);
  } else if (f.t === 'ping') {
    ws.send('{"t":"pong"}');
  }
}

/** Opens one connection and resolves once the server said `ready` (rejects on anything else). */
function connect(o: ClientStart, d: DeviceEntry, localAddress: string): Promise<void> {
  return connectDevice({ wsUrl: o.wsUrl, sdkAppId: o.sdkAppId, registrationId: d.r, credential: d.c }, localAddress, onFrame, () => {
    if (!stopping) unexpectedCloses++;
  });
}

let resume: (() => void) | null = null;

async function start(o: ClientStart): Promise<void> {
  const all = JSON.parse(fs.readFileSync(o.devicesFile, 'utf8')) as DeviceEntry[];
  const mine = all.slice(o.from, o.to);
  const t0 = performance.now();
  const deadline = Date.now() + o.timeoutMs;
  // A fixed number of workers, each opening connections one after another: bounded in-flight
  // handshakes keep the server's accept backlog from overflowing.
  const open = async (from: number, to: number) => {
    let next = from;
    const worker = async () => {
      while (next < to && Date.now() < deadline) {
        const i = next++;
        try {
          await connect(o, mine[i]!, o.localAddresses[i % o.localAddresses.length]!);
          ready++;
        } catch (err) {
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, to - from) }, worker));
  };
  // Progress (receipts included) until the process ends, so the orchestrator sees delivery drain.
  setInterval(() => send({ type: 'progress', ready, failed, received: firstSeen.size }), 1000);
  // First half, then a pause for the orchestrator's mid-way memory sample, then the rest.
  const half = Math.floor(mine.length / 2);
  await open(0, half);
  const resumed = new Promise<void>((r) => (resume = r));
  send({ type: 'half', ready, failed });
  await resumed;
  await open(half, mine.length);
  send({ type: 'connected', ready, failed, firstError, ms: performance.now() - t0 });
}

process.on('message', (raw) => {
  const m = raw as ClientStart | { cmd: 'resume' } | { cmd: 'report' } | { cmd: 'stop' };
  if (m.cmd === 'resume') {
    resume?.();
  } else if (m.cmd === 'start') {
    start(m).catch((err: unknown) => send({ type: 'fatal', error: String(err) }));
  } else if (m.cmd === 'report') {
    const report: ClientReport = { type: 'report', nums: [...firstSeen.keys()], latencies: [...firstSeen.values()], duplicates, unexpectedCloses };
    send(report);
  } else if (m.cmd === 'stop') {
    stopping = true;
    // The process exit closes every socket at once; a graceful close of thousands adds nothing here.
    process.exit(0);
  }
});

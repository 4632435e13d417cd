/**
 * The app backend: single pushes (one RegistrationID each, round-robin over the devices) at a steady
 * rate, open loop: each push is sent when it is due whether or not earlier ones were answered, so a
 * slow server shows up as latency instead of as a lower send rate. Each push carries its send time.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { DeviceEntry, PusherDone, PusherStart } from './protocol.js';
import { nowMs } from './stats.js';

const send = (m: unknown) => process.send?.(m);
process.on('disconnect', () => process.exit(1));

async function run(o: PusherStart): Promise<PusherDone> {
  const ids = (JSON.parse(fs.readFileSync(o.devicesFile, 'utf8')) as DeviceEntry[]).map((d) => d.r);
  const base = new URL(o.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets });
  const sep = o.pushPath.includes('?') ? '&' : '?';
  const accepted: number[] = [];
  const replyMs: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let answered = 0;
  let lastAnswer = 0;

  const push = (n: number) => {
    const sentAt = nowMs();
    const body = JSON.stringify({
      From_Account: 'administrator',
      To_Account: [ids[n % ids.length]!],
      MsgRandom: n,
      OfflinePushInfo: { PushFlag: 0, Title: 'bench', Desc: `bench push ${n}`, Ext: JSON.stringify({ n, t: sentAt }) },
    });
    const fail = (why: string) => {
      failed++;
      firstError ??= why;
      answered++;
    };
    const req = http.request(
      { host: base.hostname, port: base.port, path: `${o.pushPath}${sep}random=${n}`, method: 'POST', agent, localAddress: o.localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let status = '';
          try {
            status = (JSON.parse(text) as { ActionStatus?: string }).ActionStatus ?? '';
          } catch {
            // reported below as a failure
          }
          if (res.statusCode !== 200 || status !== 'OK') return fail(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
          accepted.push(n);
          replyMs.push(nowMs() - sentAt);
          answered++;
          lastAnswer = performance.now();
        });
        res.on('error', (err) => fail(err.message));
      },
    );
    req.on('error', (err) => fail(err.message));
    req.end(body);
  };

  // Pace by the clock: each tick sends every push that is due by now, so timer jitter does not
  // change the average rate.
  const t0 = performance.now();
  const deadline = t0 + o.timeoutMs;
  let sent = 0;
  let lastSend = t0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(o.total, Math.floor(((performance.now() - t0) * o.rate) / 1000) + 1);
      while (sent < due) push(sent++);
      lastSend = performance.now();
      if (sent >= o.total || performance.now() > deadline) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendSpanMs = lastSend - t0;
  // wait for the answers, bounded by the same deadline
  while (answered < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();
  return { type: 'done', sent, accepted, failed: failed + (sent - answered), firstError, replyMs, sendSpanMs, answerSpanMs: lastAnswer - t0 };
}

process.on('message', (raw) => {
  const m = raw as PusherStart;
  if (m.cmd === 'start') run(m).then(send, (err: unknown) => send({ type: 'fatal', error: String(err) }));
});

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { LoadSample, MemSample, ReplyMessage, ServerRequest } from './protocol.js';

const gc = (globalThis as { gc?: () => void }).gc;

/** Memory after two full collections, so the figure is live data, not garbage waiting. */
async function settledMemory(): Promise<MemSample> {
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const m = process.memoryUsage();
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, newSpace, external: m.external };
}

// How late timers fire: a blocked event loop delays every frame and reply behind it.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

/** Counters since start, and the loop-delay histogram since the previous sample (then reset). */
function load(): LoadSample {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const sample: LoadSample = {
    eluIdle: elu.idle,
    eluActive: elu.active,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    wallMs: performance.now(),
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
  loopDelay.reset();
  return sample;
}

/** A request the server's own commands answer (`more` in serveIpc). */
export type OtherRequest = { id: number; cmd: string; [k: string]: unknown };

const unknownCommand = (req: OtherRequest): Promise<unknown> => Promise.reject(new Error(`unknown command ${req.cmd}`));

/**
 * Answers the orchestrator's requests the same way for Herald and the baseline, so both are
 * measured by identical code; `more` answers commands of a process's own (emulator hosts). The
 * server exits when the orchestrator goes away.
 */
export function serveIpc(url: string, stop: () => Promise<void>, more: (req: OtherRequest) => Promise<unknown> = unknownCommand): void {
  const send = (m: unknown) => process.send?.(m);
  process.on('message', (raw) => {
    const req = raw as ServerRequest | OtherRequest;
    const answer = async (): Promise<unknown> => {
      switch (req.cmd) {
        case 'mem':
          return settledMemory();
        case 'load':
          return load();
        case 'stop':
          await stop();
          setImmediate(() => process.exit(0));
          return null;
        default:
          return more(req as OtherRequest);
      }
    };
    answer().then(
      (result) => send({ id: req.id, ok: true, result } satisfies ReplyMessage),
      (err: unknown) => send({ id: req.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies ReplyMessage),
    );
  });
  process.on('disconnect', () => process.exit(1));
  send({ type: 'listening', url });
}

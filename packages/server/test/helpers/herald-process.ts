import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually } from './herald.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A loopback port free at the time of asking. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** `herald start` as its own process, as an operator runs it: a test can SIGKILL it. */
export function startHeraldProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'start'], {
    env: { ...process.env, HERALD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Resolves once the server at `url` answers /readyz. */
export async function waitReady(url: string, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => {
    try {
      return (await fetch(`${url}/readyz`)).ok;
    } catch {
      return false;
    }
  }, timeoutMs);
}

/** SIGKILL, and wait for the process to be gone. */
export async function kill(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await exited;
}

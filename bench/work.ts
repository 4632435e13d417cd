/** What every benchmark orchestrator needs around its runs: scratch folders, a log line, a deadline. */
import fs from 'node:fs';
import path from 'node:path';
import { killAll } from './gateway/child.js';

/** Scratch folders under `root` left by runs that died (their process is gone). */
function removeStale(root: string): void {
  if (!fs.existsSync(root)) return;
  for (const name of fs.readdirSync(root)) {
    const pid = Number(name);
    let alive = false;
    try {
      alive = Number.isInteger(pid) && pid > 0 && process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
}

/** This process's scratch folder under `root` (made now, removed at exit), after clearing dead runs' ones. */
export function scratchDir(root: string): string {
  removeStale(root);
  const dir = path.join(root, String(process.pid));
  fs.mkdirSync(dir, { recursive: true });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A progress line on stderr, stamped with the time of day. */
export const log = (s: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/**
 * The whole run stops by itself: past `seconds` every child is killed and the run fails (exit 2);
 * a signal or the orchestrator's exit kills them too. Returns what disarms the deadline.
 */
export function runDeadline(seconds: number): () => void {
  const overall = setTimeout(() => {
    console.error(`bench: overall timeout of ${seconds} s reached; killing children`);
    killAll();
    process.exit(2);
  }, seconds * 1000);
  process.on('SIGINT', () => (killAll(), process.exit(130)));
  process.on('SIGTERM', () => (killAll(), process.exit(143)));
  process.on('exit', () => killAll());
  return () => clearTimeout(overall);
}

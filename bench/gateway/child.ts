/** Forked child processes with request/reply and event waiting over IPC, all killable at once. */
import { fork, type ChildProcess } from 'node:child_process';
import type { EventMessage, ReplyMessage } from './protocol.js';

const live = new Set<Child>();

/** Kills every child still running (overall timeout, errors, exit). */
export function killAll(): void {
  for (const c of live) c.kill();
}

export class Child {
  private proc: ChildProcess;
  private nextId = 1;
  private pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private events: EventMessage[] = [];
  private listeners = new Set<() => void>();
  private exited: string | null = null;

  /** `env`: variables added to this process's environment for the child (e.g. HERALD_* settings). */
  constructor(readonly name: string, script: string, args: string[], execArgv: string[], env?: Record<string, string>) {
    this.proc = fork(script, args, { execArgv: ['--conditions=source', '--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(env ? { env: { ...process.env, ...env } } : {}) });
    live.add(this);
    this.proc.on('message', (raw) => {
      const m = raw as ReplyMessage & EventMessage;
      if (typeof m.id === 'number' && this.pending.has(m.id)) {
        const p = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`${name}: ${m.error}`));
      } else {
        this.events.push(m);
        for (const l of [...this.listeners]) l();
      }
    });
    this.proc.on('exit', (code, signal) => {
      live.delete(this);
      this.exited = `${name} exited (code ${code}, signal ${signal})`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
      for (const l of [...this.listeners]) l();
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Sends a message without waiting for anything. */
  post(message: object): void {
    if (this.exited === null) this.proc.send(message);
  }

  /** Sends a request `{ id, cmd, ... }` and waits for the reply with that id. */
  call<T>(cmd: string, args: object = {}, timeoutMs = 30_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.proc.send({ id, cmd, ...args });
    });
  }

  /** The most recent event of this type, if any. */
  last(type: string): EventMessage | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.type === type) return this.events[i];
    return undefined;
  }

  /** Waits for an event of this type (one already received counts); fails on `fatal`, exit or timeout. */
  waitFor(type: string, timeoutMs: number): Promise<EventMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.last(type);
        const fatal = this.last('fatal');
        if (hit) done(() => resolve(hit));
        else if (fatal) done(() => reject(new Error(`${this.name}: ${String(fatal.error)}`)));
        else if (this.exited) done(() => reject(new Error(this.exited!)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no ${type} within ${timeoutMs} ms`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Ends the process by its pid; no-op once it has exited. */
  kill(): void {
    if (this.exited === null) this.proc.kill('SIGKILL');
  }

  /** Resolves when the process has exited, killing it if that takes longer than `graceMs`. */
  async exitWithin(graceMs: number): Promise<void> {
    if (this.exited !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.kill(), graceMs);
      this.proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

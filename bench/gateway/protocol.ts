/** Messages between the orchestrator (run.ts) and its child processes, over the fork IPC channel. */

/** One seeded device, as written to the devices file: RegistrationID and credential. */
export interface DeviceEntry {
  r: string;
  c: string;
}

/** What seeding a server's devices produces (herald-seed.ts, bare-seed.ts). */
export interface SeedResult {
  sdkAppId: number;
  /** Path and query of the push endpoint; the pusher appends `random=<n>`. */
  pushPath: string;
  /** JSON file holding DeviceEntry[]. */
  devicesFile: string;
  seedMs: number;
}

export interface MemSample {
  rss: number;
  heapUsed: number;
  /** For reading RSS: V8's committed heap, its young generation, and Buffer memory. */
  heapTotal: number;
  newSpace: number;
  external: number;
}

/** Raw counters the orchestrator diffs over the latency phase. */
export interface LoadSample {
  eluIdle: number;
  eluActive: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  wallMs: number;
  /** Event-loop delay since the previous sample. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** Orchestrator → server request; answered by `{ id, ok, result | error }`. */
export type ServerRequest =
  | { id: number; cmd: 'mem' }
  | { id: number; cmd: 'load' }
  | { id: number; cmd: 'stop' };

export interface ReplyMessage {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Any child's unsolicited message. */
export interface EventMessage {
  type: string;
  [k: string]: unknown;
}

export interface ClientStart {
  cmd: 'start';
  /** ws://host:port/path of the gateway. */
  wsUrl: string;
  sdkAppId: number;
  devicesFile: string;
  from: number;
  to: number;
  /** Source addresses to spread connections over (avoids ephemeral-port exhaustion). */
  localAddresses: string[];
  /** Connections opening at once. */
  concurrency: number;
  timeoutMs: number;
}

/** What a client reports at the end: first receipt of each push number and its latency. */
export interface ClientReport {
  type: 'report';
  nums: number[];
  latencies: number[];
  duplicates: number;
  unexpectedCloses: number;
}

export interface PusherStart {
  cmd: 'start';
  baseUrl: string;
  pushPath: string;
  devicesFile: string;
  rate: number;
  /** Total pushes to send, evenly paced at `rate`. */
  total: number;
  localAddress: string;
  maxSockets: number;
  timeoutMs: number;
}

export interface PusherDone {
  type: 'done';
  sent: number;
  /** Push numbers the server accepted (HTTP 200 and ActionStatus OK). */
  accepted: number[];
  failed: number;
  firstError?: string;
  /** Send-to-reply times of accepted pushes, ms. */
  replyMs: number[];
  /** Wall time from the first to the last send, ms. */
  sendSpanMs: number;
  /** Wall time from the first send to the last accepted answer, ms. */
  answerSpanMs: number;
}

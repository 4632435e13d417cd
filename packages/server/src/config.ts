import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { compileTrustProxy, type LimitSettings } from './limits/index.js';

/** Everything Herald reads from its environment, parsed once at start. */
const EnvSchema = z.object({
  HERALD_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HERALD_HOST: z.string().default('0.0.0.0'),
  HERALD_DATA_DIR: z.string().default('./data'),
  HERALD_DATABASE_URL: z.string().optional(),
  HERALD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HERALD_HEARTBEAT_SECONDS: z.coerce.number().int().min(5).max(600).default(30),
  HERALD_DEFAULT_EXPIRE_SECONDS: z.coerce.number().int().min(1).max(30 * 86400).default(72 * 3600),
  HERALD_MSGRANDOM_WINDOW_SECONDS: z.coerce.number().int().min(1).max(7 * 86400).default(600),
  HERALD_TASK_LEASE_SECONDS: z.coerce.number().min(0.5).max(3600).default(30),
  HERALD_FANOUT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  HERALD_FANOUT_SHARD_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  HERALD_TASK_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  HERALD_TASK_RETRY_SECONDS: z.coerce.number().min(0.01).max(600).default(5),
  HERALD_PUBLIC_URL: z.url().optional(),
  HERALD_VENDOR_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  HERALD_VENDOR_RATE: z.coerce.number().min(0).default(0),
  HERALD_CERTIFICATE_RETRY_MINUTES: z.coerce.number().min(0.01).max(7 * 24 * 60).default(15),
  HERALD_CRYPTO_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  HERALD_STATISTICS: z.enum(['on', 'off']).default('on'),
  HERALD_TRACE_LIMIT: z.coerce.number().int().min(0).max(100_000_000).default(200_000),
  HERALD_CALLBACK_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(60).default(5),
  HERALD_CALLBACK_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(32),
  HERALD_CALLBACK_RATE: z.coerce.number().int().min(1).max(100_000).default(1000),
  HERALD_CALLBACK_RETRY_HOURS: z.coerce.number().min(0.01).max(720).default(24),
  HERALD_CALLBACK_DEFER_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  HERALD_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  HERALD_TRUST_PROXY: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const list = v.split(',').map((s) => s.trim()).filter(Boolean);
      if (list.length === 0 || (list.length === 1 && list[0] === 'false')) return false;
      if (list.length === 1 && list[0] === 'true') return true;
      try {
        compileTrustProxy(list);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not an address, CIDR or loopback/linklocal/uniquelocal (${(err as Error).message})` });
        return z.NEVER;
      }
      return list;
    }),
  HERALD_METRICS_TOKEN: z.union([z.literal(''), z.string().min(16, 'must be at least 16 characters')]).optional(),
  HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_ADDRESS: perMinute(30),
  HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_APP: perMinute(300),
  HERALD_LIMIT_DEVICE_AUTH_FAILURES_PER_ADDRESS: perMinute(60),
  HERALD_LIMIT_DEVICE_AUTH_FAILURES_PER_APP: perMinute(600),
  HERALD_LIMIT_REGISTRATIONS_PER_ADDRESS: perMinute(120),
  HERALD_LIMIT_REGISTRATIONS_PER_APP: perMinute(12_000),
});

/** A bound a minute; 0 turns it off. */
function perMinute(fallback: number) {
  return z.coerce.number().int().min(0).max(100_000_000).default(fallback);
}

export interface HeraldConfig {
  port: number;
  host: string;
  dataDir: string;
  /** `postgres://…` for PostgreSQL; absent for SQLite under dataDir. */
  databaseUrl?: string;
  logLevel: string;
  heartbeatSeconds: number;
  /** How long an undelivered message waits in a device inbox when the push names no ExpireTime. */
  defaultExpireSeconds: number;
  /** A MsgRandom repeated by one app within this window returns the first call's TaskId. */
  msgRandomWindowSeconds: number;
  /** A fan-out shard whose holder is silent this long is taken over by another process (or this one after a restart). */
  taskLeaseSeconds: number;
  /** Shards one process sends at the same time. */
  fanoutConcurrency: number;
  /** Devices per fan-out shard: the unit of work handed between processes. */
  fanoutShardSize: number;
  /** Failed attempts at sending an all-users or tag push after which it is given up on (status failed). */
  taskAttempts: number;
  /** Wait before a failed push is tried again; it doubles with each failed attempt, up to 10 minutes. */
  taskRetrySeconds: number;
  /** The URL vendors reach Herald at, for delivery receipts; absent, the address Herald listens on. */
  publicUrl?: string;
  /** Vendor requests in flight per certificate, unless the certificate sets `limits.concurrency`. */
  vendorConcurrency: number;
  /** Devices sent per second per certificate (0 = unpaced), unless the certificate sets `limits.perSecond`. */
  vendorRate: number;
  /** A certificate stopped because its vendor refused it is tried again with one batch after this long. */
  certificateRetryMinutes: number;
  /** Worker threads that encrypt Web Push messages (0 = on the event loop); default: one core less than the machine has, at least 1, at most 4. */
  cryptoThreads: number;
  /** Funnel counters, trace steps and callbacks; off only for measuring what they cost. */
  statistics: boolean;
  /** Trace steps kept per push and process for the message link; past it, steps are only counted. */
  traceLimit: number;
  /** A callback request with no answer by then has failed and is tried again. */
  callbackTimeoutSeconds: number;
  /** Callback requests in flight in this process, over all apps. */
  callbackConcurrency: number;
  /** Callback requests a second per app, unless the app sets MaxPerSecond. */
  callbackRate: number;
  /** A callback request still failing this long after its events were stored is kept as dead. */
  callbackRetryHours: number;
  /** While a push is delivered, its callback events wait up to this long (delivery first). */
  callbackDeferSeconds: number;
  /** Days push records, traces and everything else per push are kept after the push was created and expired. */
  retentionDays: number;
  /** Proxies whose X-Forwarded-For names the client: false (none), true (any), or addresses/CIDRs. */
  trustProxy: boolean | string[];
  /** Bearer token that opens /metrics; without one it answers only direct loopback requests. */
  metricsToken?: string;
  /** Failed authentications and registrations a minute, per source address and per app. */
  limits: LimitSettings;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<HeraldConfig> = {}): HeraldConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`invalid environment: ${first?.path.join('.')}: ${first?.message}`);
  }
  const e = parsed.data;
  return {
    port: e.HERALD_PORT,
    host: e.HERALD_HOST,
    dataDir: path.resolve(e.HERALD_DATA_DIR),
    databaseUrl: e.HERALD_DATABASE_URL || undefined,
    logLevel: e.HERALD_LOG_LEVEL,
    heartbeatSeconds: e.HERALD_HEARTBEAT_SECONDS,
    defaultExpireSeconds: e.HERALD_DEFAULT_EXPIRE_SECONDS,
    msgRandomWindowSeconds: e.HERALD_MSGRANDOM_WINDOW_SECONDS,
    taskLeaseSeconds: e.HERALD_TASK_LEASE_SECONDS,
    fanoutConcurrency: e.HERALD_FANOUT_CONCURRENCY,
    fanoutShardSize: e.HERALD_FANOUT_SHARD_SIZE,
    taskAttempts: e.HERALD_TASK_ATTEMPTS,
    taskRetrySeconds: e.HERALD_TASK_RETRY_SECONDS,
    publicUrl: e.HERALD_PUBLIC_URL?.replace(/\/$/, ''),
    vendorConcurrency: e.HERALD_VENDOR_CONCURRENCY,
    vendorRate: e.HERALD_VENDOR_RATE,
    certificateRetryMinutes: e.HERALD_CERTIFICATE_RETRY_MINUTES,
    cryptoThreads: e.HERALD_CRYPTO_THREADS ?? Math.min(4, Math.max(1, os.availableParallelism() - 1)),
    statistics: e.HERALD_STATISTICS === 'on',
    traceLimit: e.HERALD_TRACE_LIMIT,
    callbackTimeoutSeconds: e.HERALD_CALLBACK_TIMEOUT_SECONDS,
    callbackConcurrency: e.HERALD_CALLBACK_CONCURRENCY,
    callbackRate: e.HERALD_CALLBACK_RATE,
    callbackRetryHours: e.HERALD_CALLBACK_RETRY_HOURS,
    callbackDeferSeconds: e.HERALD_CALLBACK_DEFER_SECONDS,
    retentionDays: e.HERALD_RETENTION_DAYS,
    trustProxy: e.HERALD_TRUST_PROXY,
    metricsToken: e.HERALD_METRICS_TOKEN || undefined,
    limits: {
      adminAuthFailuresPerAddress: e.HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_ADDRESS,
      adminAuthFailuresPerApp: e.HERALD_LIMIT_ADMIN_AUTH_FAILURES_PER_APP,
      deviceAuthFailuresPerAddress: e.HERALD_LIMIT_DEVICE_AUTH_FAILURES_PER_ADDRESS,
      deviceAuthFailuresPerApp: e.HERALD_LIMIT_DEVICE_AUTH_FAILURES_PER_APP,
      registrationsPerAddress: e.HERALD_LIMIT_REGISTRATIONS_PER_ADDRESS,
      registrationsPerApp: e.HERALD_LIMIT_REGISTRATIONS_PER_APP,
    },
    ...overrides,
  };
}

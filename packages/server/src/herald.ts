import type { AddressInfo } from 'node:net';
import { buildApi } from './api/server.js';
import { Metrics } from './api/metrics.js';
import type { OfflineChannels } from './channels/index.js';
import { VendorChannels } from './channels/vendor-channels.js';
import { CertificateHealth } from './channels/certificate-health.js';
import type { CertVendor } from './channels/certificates.js';
import { receiptPath } from './channels/receipt-urls.js';
import type { VendorAdapter } from './channels/vendor.js';
import type { CertificateRow } from './store/certificates.js';
import { apnsAdapter } from './channels/vendors/apns.js';
import { createWebPushAdapter } from './channels/vendors/webpush.js';
import { webPushEncryption } from './channels/vendors/webpush-encryption.js';
import { fcmAdapter } from './channels/vendors/fcm.js';
import { huaweiAdapter } from './channels/vendors/huawei.js';
import { xiaomiAdapter } from './channels/vendors/xiaomi.js';
import { oppoAdapter } from './channels/vendors/oppo.js';
import { vivoAdapter } from './channels/vendors/vivo.js';
import { meizuAdapter } from './channels/vendors/meizu.js';
import { honorAdapter } from './channels/vendors/honor.js';
import { harmonyAdapter } from './channels/vendors/harmony.js';
import { LocalRouter, type Router } from './cluster/index.js';
import type { HeraldConfig } from './config.js';
import { fireScheduled } from './api/admin/sched.js';
import type { AdminDeps } from './api/admin/context.js';
import { BatchPushAcceptor, BatchRecovery, CatchUp, conversationSettings, dispatchDue, Fanout, loadBacklog, sweepExpired, TaskFailures, TaskRunner } from './dispatch/index.js';
import { randomHex } from './auth/secrets.js';
import { Gateway, GATEWAY_PATH } from './gateway/index.js';
import { clientAddress, compileTrustProxy, edgeLimits } from './limits/index.js';
import { createLogger, type Logger } from './log.js';
import { authenticateDevice, LastSeen } from './registry/index.js';
import { Receipts, StatsRecorder } from './stats/index.js';
import { AppDirectory, apps as appStore, certificates as certificateStore, openStore, tasks, type App, type Store } from './store/index.js';
import { Batcher } from './util/batcher.js';
import { RetentionPruner } from './stats/retention.js';
import { CallbackOutbox, CallbackSender, CallbackSettings, callbackMetrics, type CallbackSenderOptions } from './callbacks/index.js';
import { groupBy } from './util/group-by.js';

export interface Herald {
  /** `http://host:port` of the API and gateway. */
  url: string;
  port: number;
  store: Store;
  log: Logger;
  gateway: Gateway;
  router: Router;
  /** Where events for the apps' backends are stored (the statistics recorder writes them). */
  callbacks: CallbackOutbox;
  /** Funnel counters, trace steps and callbacks. */
  stats: StatsRecorder;
  /** The app created on this start because the store had none. */
  createdDefaultApp?: App;
  /** Writes buffered receipts and status changes now (tests and shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  offline?: OfflineChannels;
  /** How often expired inbox messages are swept (ms). */
  sweepIntervalMs?: number;
  /** How long pushes and everything kept for them stay (ms; default HERALD_RETENTION_DAYS). */
  retentionMs?: number;
  /** How often the retention runs (ms, default 15 minutes). */
  pruneIntervalMs?: number;
  /** Create an app named "default" when the store has none (the first start). */
  bootstrapDefaultApp?: boolean;
  /** Gateway timeouts, shortened by tests. */
  gatewayTimeouts?: { authMs?: number; deadAfterMs?: number; pingAfterMs?: number };
  /** A device with more unsent bytes queued is disconnected (default 4 MiB). */
  gatewayMaxBufferedBytes?: number;
  /** How often the task runner looks for work without being told (ms, default 1000). */
  taskPollMs?: number;
  /** Fan-out shard and page sizes (defaults: HERALD_FANOUT_SHARD_SIZE and 500). */
  shardSize?: number;
  pageSize?: number;
  /** Callback sender timings, shortened by tests (back-off, retry bound, polling). */
  callbacks?: Partial<Omit<CallbackSenderOptions, 'db' | 'settings' | 'owner' | 'onError' | 'metrics'>>;
}

/** Starts every part of Herald in this process: store, API, gateway, in-process routing. */
export async function startHerald(config: HeraldConfig, opts: StartOptions = {}): Promise<Herald> {
  const log = opts.logger ?? createLogger(config.logLevel);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onCheckpointError: (message) => log.warn({ message }, 'background checkpoint failed') });
  const { db } = store;
  const apps = new AppDirectory(db);
  const createdDefaultApp = opts.bootstrapDefaultApp && (await appStore.countApps(db)) === 0 ? await appStore.createApp(db, 'default') : undefined;
  const onError = (err: unknown, context = 'background work') => log.error({ err }, context);
  // The outbox is written in the statistics recorder's transactions; the sender, made below once
  // this process's lease owner exists, posts it.
  const callbackSettings = new CallbackSettings(db);
  const callbacks = new CallbackOutbox(db, callbackSettings, (appId, events) => callbackSender.wake(appId, events));
  const stats = new StatsRecorder(db, { dialect: store.dialect, enabled: config.statistics, traceLimitPerTask: config.traceLimit, callbacks, onError: (err) => onError(err, 'statistics write') });
  const receipts = new Receipts(db, stats, (err) => onError(err, 'receipt write'));
  const lastSeen = new LastSeen(db, (err) => onError(err, 'last-seen write'));
  let accepting = false;

  // The HTTP server exists before the gateway so both share one port.
  let gatewayRef: Gateway | null = null;
  const metrics = new Metrics({
    connections: () => gatewayRef?.stats().connections ?? 0,
    devicesOnline: () => gatewayRef?.stats().authenticated ?? 0,
    stoppedCertificates: async () => (await certificateStore.stoppedCertificates(db)).map((c) => ({ sdkAppId: Number(c.app_id), certId: Number(c.cert_id), vendor: c.vendor })),
  });
  const certificateHealth = new CertificateHealth(db, {
    probeAfterMs: config.certificateRetryMinutes * 60_000,
    onStop(appId, cert, stop) {
      log.error({ appId, certId: Number(cert.cert_id), vendor: cert.vendor, code: stop.code, reason: stop.reason }, `certificate ${cert.cert_id} of app ${appId} stopped: its vendor refused it; its devices keep their tokens until it is replaced`);
      metrics.certificateStops.inc({ vendor: cert.vendor });
    },
  });
  const limits = edgeLimits(config.limits, (limit) => metrics.rateLimited.inc({ limit }));
  const trustProxy = config.trustProxy === false ? undefined : compileTrustProxy(config.trustProxy);
  const lateRouter: Router = {
    localDevices: (a) => router.localDevices(a),
    online: (a, ids) => router.online(a, ids),
    deliver: (a, d) => router.deliver(a, d),
    broadcastControl: (a, ids, f) => router.broadcastControl(a, ids, f),
    kick: (a, id, c, r) => router.kick(a, id, c, r),
    close: () => router.close(),
  };
  const encryption = webPushEncryption(opts.offline ? 0 : config.cryptoThreads);
  const adapters: Partial<Record<CertVendor, VendorAdapter>> = { apns: apnsAdapter, webpush: createWebPushAdapter(encryption), fcm: fcmAdapter, huawei: huaweiAdapter, xiaomi: xiaomiAdapter, oppo: oppoAdapter, vivo: vivoAdapter, meizu: meizuAdapter, honor: honorAdapter, harmony: harmonyAdapter };
  // Vendors post receipts to the public URL; without one, to the address Herald listens on (known once listening).
  let publicUrl = config.publicUrl;
  const receiptUrl = async (appId: number, cert: CertificateRow) => {
    const app = await apps.get(appId);
    return app && publicUrl ? publicUrl + receiptPath(app.secretKey, cert.vendor, appId, Number(cert.cert_id)) : undefined;
  };
  const vendors = opts.offline
    ? undefined
    : new VendorChannels(db, stats, adapters, (err) => onError(err, 'offline channel'), receiptUrl, { concurrency: config.vendorConcurrency, perSecond: config.vendorRate }, certificateHealth);
  const offline = opts.offline ?? vendors!;
  const owner = `${process.pid}-${randomHex(4)}`;
  const leaseMs = config.taskLeaseSeconds * 1000;
  const chatRecipients = conversationSettings(db);
  const routed = new Batcher<{ appId: number; taskId: string }>((keys) => tasks.setStatusMany(db, keys, 'accepted', 'routed'), (err) => onError(err, 'task status write'), 50);
  const push = new BatchPushAcceptor({
    db,
    stats,
    router: lateRouter,
    offline,
    defaultExpireSeconds: config.defaultExpireSeconds,
    msgRandomWindowSeconds: config.msgRandomWindowSeconds,
    markRouted: (appId, taskId) => routed.add({ appId, taskId }),
    owner,
    leaseMs,
    onError,
    chatRecipients,
  });
  const callbackSender = new CallbackSender({
    db,
    settings: callbackSettings,
    owner,
    onError,
    metrics: callbackMetrics(metrics.registry, db),
    timeoutMs: config.callbackTimeoutSeconds * 1000,
    concurrency: config.callbackConcurrency,
    defaultPerSecond: config.callbackRate,
    retryForMs: config.callbackRetryHours * 3600_000,
    deferWhileBusyMs: config.callbackDeferSeconds * 1000,
    ...opts.callbacks,
  });
  const fanout = new Fanout({ db, router: lateRouter, offline, stats, leaseMs, shardSize: opts.shardSize ?? config.fanoutShardSize, pageSize: opts.pageSize, onError });
  const adminDeps: AdminDeps = {
    db,
    apps,
    push,
    broadcast: { db, defaultExpireSeconds: config.defaultExpireSeconds, msgRandomWindowSeconds: config.msgRandomWindowSeconds, wake: () => runner.wake() },
    revoke: { db, router: lateRouter, offline, stats },
    lastRecall: new Map(),
    metrics,
    publicUrl: () => publicUrl,
    callbacks,
    authFailures: limits.adminAuth,
    async checkCertificate(appId, certId) {
      if (vendors) return vendors.checkCertificate(appId, certId);
      const cert = await certificateStore.findCertificate(db, appId, certId);
      return cert && { vendor: cert.vendor, result: { ok: false, code: 0, info: 'this process sends through replaced offline channels' } };
    },
  };
  const failures = new TaskFailures({
    db,
    stats,
    log,
    metrics: { attemptFailed: () => metrics.pushAttemptsFailed.inc(), taskFailed: () => metrics.pushesFailed.inc() },
    maxAttempts: config.taskAttempts,
    backoffMs: config.taskRetrySeconds * 1000,
    onFailed: (key) => fanout.forget(key),
  });
  const batchRecovery = new BatchRecovery({ db, router: lateRouter, offline, owner, leaseMs, unread: chatRecipients.unread, failures, onError });
  const runner = new TaskRunner({
    db,
    stats,
    router: lateRouter,
    fanout,
    failures,
    owner,
    leaseMs,
    pollMs: opts.taskPollMs ?? 1000,
    concurrency: config.fanoutConcurrency,
    onError,
    recoverBatches: (now) => batchRecovery.run(now),
    dispatchSchedules: (now) => dispatchDue({ db, leaseMs, onError, fire: (row, onStored) => fireScheduled(adminDeps, row, onStored) }, now),
  });
  const catchUp = new CatchUp(db, lateRouter, stats, failures);
  const api = buildApi({
    admin: adminDeps,
    device: { db, apps, router: lateRouter, receipts, heartbeatSeconds: config.heartbeatSeconds, gatewayPath: GATEWAY_PATH, log, limits: { auth: limits.deviceAuth, registrations: limits.registrations } },
    receipts: { db, apps, adapters, stats, log },
    metrics,
    metricsToken: config.metricsToken,
    trustProxy,
    log,
    ready: () => accepting,
  });
  await api.ready();

  const gateway = new Gateway(api.server, {
    heartbeatSeconds: config.heartbeatSeconds,
    authTimeoutMs: opts.gatewayTimeouts?.authMs,
    deadAfterMs: opts.gatewayTimeouts?.deadAfterMs,
    pingAfterMs: opts.gatewayTimeouts?.pingAfterMs,
    maxBufferedBytes: opts.gatewayMaxBufferedBytes,
    addressOf: (req) => clientAddress(req, trustProxy),
    authFailures: limits.deviceAuth,
    log: log.child({ part: 'gateway' }),
    async authenticate(sdkAppId, registrationId, credential, sdkVersion) {
      const row = await authenticateDevice(db, sdkAppId, registrationId, credential);
      if (!row) return null;
      lastSeen.seen(sdkAppId, registrationId, sdkVersion);
      return { appId: sdkAppId, registrationId, locale: row.locale };
    },
    catchUp: (device) => catchUp.run(device.appId, device.registrationId),
    async backlog(device, afterSeq, limit) {
      const page = await loadBacklog(db, device.appId, device.registrationId, device.locale, afterSeq, limit);
      receipts.sent(device.appId, device.registrationId, page.map((d) => d.seq));
      return page;
    },
    acked: (device, seqs) => receipts.acked(device.appId, device.registrationId, seqs),
    clicked: (device, id) => receipts.clicked(device.appId, device.registrationId, id),
  });
  gatewayRef = gateway;
  const router: Router = new LocalRouter(gateway, (appId, handed) => {
    for (const [registrationId, list] of groupBy(handed, (d) => d.registrationId)) receipts.sent(appId, registrationId, list.map((d) => d.seq));
  });

  const sweepEvery = opts.sweepIntervalMs ?? 60_000;
  const retention = opts.retentionMs ?? config.retentionDays * 86400_000;
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweepExpired(db, stats, Date.now(), retention)
      .catch((err) => onError(err, 'inbox expiry sweep'))
      .finally(() => (sweeping = false));
  }, sweepEvery);
  sweeper.unref();
  const pruner = new RetentionPruner(db, { retentionMs: retention, intervalMs: opts.pruneIntervalMs ?? 15 * 60_000, onError: (err) => onError(err, 'retention') });

  await api.listen({ port: config.port, host: config.host });
  accepting = true;
  runner.start();
  pruner.start();
  callbackSender.start();
  const port = (api.server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  publicUrl ??= `http://${host}:${port}`;

  let closed = false;
  return {
    url: `http://${host}:${port}`,
    port,
    store,
    log,
    gateway,
    router,
    callbacks,
    stats,
    createdDefaultApp,
    async flush() {
      await Promise.all([receipts.flush(), routed.flush(), lastSeen.flush(), vendors?.flush()]);
      await stats.flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      accepting = false;
      clearInterval(sweeper);
      await pruner.stop();
      // Sessions first (the HTTP server waits for its sockets), then in-flight requests, then the
      // work they started; the inboxes hold whatever the closed sessions did not get.
      await gateway.close();
      await api.close();
      await push.idle();
      await runner.stop();
      await batchRecovery.idle();
      await Promise.all([receipts.flush(), routed.flush(), lastSeen.flush(), vendors?.flush()]);
      await stats.flush();
      await router.close();
      await encryption.close();
      await callbackSender.close();
      await store.close();
    },
  };
}

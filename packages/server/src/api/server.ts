import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { AdminDeps } from './admin/context.js';
import { adminRoutes } from './admin/routes.js';
import { deviceRoutes, type DeviceApiDeps } from './device/routes.js';
import { receiptRoutes, type ReceiptDeps } from './receipts/routes.js';
import type { TrustProxy } from '../limits/index.js';
import type { Metrics } from './metrics.js';
import { closeWithoutReset } from './close-without-reset.js';
import { metricsAccess } from './metrics-access.js';

export interface ApiDeps {
  admin: AdminDeps;
  device: DeviceApiDeps;
  receipts: ReceiptDeps;
  metrics: Metrics;
  /** Bearer token for /metrics; absent, it answers only direct loopback requests. */
  metricsToken?: string;
  /** Proxies whose X-Forwarded-For gives the client's address (HERALD_TRUST_PROXY). */
  trustProxy?: TrustProxy;
  log: Logger;
  /** Readiness: false while starting or shutting down. */
  ready(): boolean;
}

/** The HTTP side of Herald: admin REST API, device API, vendor receipts, health and metrics. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.log.child({ part: 'api' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), trustProxy: deps.trustProxy ?? false });
  closeWithoutReset(app);
  void app.register(async (scope) => adminRoutes(scope, { ...deps.admin, log: deps.log }));
  void app.register(async (scope) => deviceRoutes(scope, deps.device));
  void app.register(async (scope) => receiptRoutes(scope, deps.receipts));
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => (deps.ready() ? { ok: true } : reply.code(503).send({ ok: false })));
  app.get('/metrics', { onRequest: metricsAccess(deps.metricsToken) }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  return app;
}

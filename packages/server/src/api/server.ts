import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { AdminDeps } from './admin/context.js';
import { adminRoutes } from './admin/routes.js';
import { deviceRoutes, type DeviceApiDeps } from './device/routes.js';
import { receiptRoutes, type ReceiptDeps } from './receipts/routes.js';
import type { Metrics } from './metrics.js';
import { closeWithoutReset } from './close-without-reset.js';

export interface ApiDeps {
  admin: AdminDeps;
  device: DeviceApiDeps;
  receipts: ReceiptDeps;
  metrics: Metrics;
  log: Logger;
  /** Readiness: false while starting or shutting down. */
  ready(): boolean;
}

/** The HTTP side of Herald: admin REST API, device API, vendor receipts, health and metrics. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.log.child({ part: 'api' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  closeWithoutReset(app);
  void app.register(async (scope) => adminRoutes(scope, { ...deps.admin, log: deps.log }));
  void app.register(async (scope) => deviceRoutes(scope, deps.device));
  void app.register(async (scope) => receiptRoutes(scope, deps.receipts));
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => (deps.ready() ? { ok: true } : reply.code(503).send({ ok: false })));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  return app;
}

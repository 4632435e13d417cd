import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Router } from '../../cluster/index.js';
import { CloseCode } from '../../gateway/index.js';
import type { Logger } from '../../log.js';
import { authenticateDevice, register } from '../../registry/index.js';
import type { Receipts } from '../../stats/index.js';
import type { App, AppDirectory, Database } from '../../store/index.js';
import { devices } from '../../store/index.js';
import { DeviceApiError, invalidRequest, parse } from './errors.js';
import { jsonInputProblem } from '../json-input.js';
import { refuseFailingSources, sendRateLimited, type DeviceLimits } from './limits.js';
import { conversationRoutes } from './conversation-routes.js';
import { AppHeaders, BindBody, ClickBody, DeviceHeaders, RegisterBody, UpdateBody } from './schemas.js';

export interface DeviceApiDeps {
  db: Kysely<Database>;
  apps: AppDirectory;
  router: Router;
  receipts: Receipts;
  heartbeatSeconds: number;
  gatewayPath: string;
  log: Logger;
  limits: DeviceLimits;
}

const BODY_LIMIT = 16 * 1024;

/** The device API used by client SDKs (docs/protocol.md §2), authenticated by SDKAppID + appKey. */
export async function deviceRoutes(app: FastifyInstance, deps: DeviceApiDeps): Promise<void> {
  const { db } = deps;

  // An empty body is an empty object (DELETE and bodiless POSTs often still say application/json).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return done(new DeviceApiError(400, 'invalid_json', 'body is not valid JSON'), undefined);
    }
    const problem = jsonInputProblem(json);
    if (problem) return done(invalidRequest(problem), undefined);
    done(null, json);
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (err instanceof DeviceApiError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: { code: 'body_too_large', message: 'body is over 16 KB' } });
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) return reply.code(400).send({ error: { code: 'invalid_json', message: 'body is not valid JSON' } });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { code: 'invalid_request', message: err.message } });
    deps.log.error({ err }, 'device API failure');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error, retry later' } });
  });

  app.addHook('onRequest', refuseFailingSources(deps.limits.auth));

  async function appOf(req: FastifyRequest): Promise<App> {
    const h = parse(AppHeaders, req.headers);
    const found = await deps.apps.get(Number(h['x-herald-sdkappid']));
    if (!found || found.appKey !== h['x-herald-appkey']) {
      await deps.limits.auth.failed(req.ip, found?.sdkAppId);
      throw new DeviceApiError(401, 'invalid_app', 'unknown SDKAppID or wrong appKey');
    }
    return found;
  }

  async function deviceOf(req: FastifyRequest): Promise<{ app: App; registrationId: string; userId: string | null }> {
    const found = await appOf(req);
    const h = parse(DeviceHeaders, req.headers);
    const credential = h.authorization.slice('Bearer '.length);
    const row = await authenticateDevice(db, found.sdkAppId, h['x-herald-registration-id'], credential);
    if (!row) {
      await deps.limits.auth.failed(req.ip, found.sdkAppId);
      throw new DeviceApiError(401, 'invalid_credential', 'unknown RegistrationID or wrong credential');
    }
    return { app: found, registrationId: row.registration_id, userId: row.user_id };
  }

  const opts = { bodyLimit: BODY_LIMIT };

  app.post('/device/v1/register', opts, async (req, reply) => {
    const found = await appOf(req);
    const b = parse(RegisterBody, req.body);
    const refused = await deps.limits.registrations.take(req.ip, found.sdkAppId);
    if (refused) return sendRateLimited(reply, refused, 'registrations');
    const { installId, registrationId, platform, ...fields } = b;
    const r = await register(db, found.sdkAppId, { installId, registrationId, platform, fields });
    if (!r.ok) throw new DeviceApiError(409, 'registration_id_taken', 'this RegistrationID belongs to another install');
    return { registrationId: r.registrationId, credential: r.credential, heartbeatSeconds: deps.heartbeatSeconds, gatewayPath: deps.gatewayPath };
  });

  app.patch('/device/v1/device', opts, async (req) => {
    const d = await deviceOf(req);
    await devices.updateDevice(db, d.app.sdkAppId, d.registrationId, parse(UpdateBody, req.body), Date.now());
    return { ok: true };
  });

  app.post('/device/v1/bind', opts, async (req) => {
    const d = await deviceOf(req);
    const { userId } = parse(BindBody, req.body);
    await devices.updateDevice(db, d.app.sdkAppId, d.registrationId, {}, Date.now(), { user_id: userId });
    return { ok: true };
  });

  app.post('/device/v1/unbind', opts, async (req) => {
    const d = await deviceOf(req);
    await devices.updateDevice(db, d.app.sdkAppId, d.registrationId, {}, Date.now(), { user_id: null });
    return { ok: true };
  });

  app.delete('/device/v1/device', opts, async (req) => {
    const d = await deviceOf(req);
    await devices.deleteDevice(db, d.app.sdkAppId, d.registrationId);
    await deps.router.kick(d.app.sdkAppId, d.registrationId, CloseCode.authFailed, 'device unregistered');
    return { ok: true };
  });

  app.post('/device/v1/click', opts, async (req) => {
    const d = await deviceOf(req);
    const { messageId } = parse(ClickBody, req.body);
    deps.receipts.clicked(d.app.sdkAppId, d.registrationId, messageId);
    return { ok: true };
  });

  conversationRoutes(app, db, deviceOf, opts);
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../log.js';
import { authenticateAdmin } from './auth.js';
import { adminCommands } from './commands.js';
import type { AdminDeps } from './context.js';
import { fail, ok, TimCode, TimError } from './envelope.js';
import { jsonInputProblem } from '../json-input.js';

const BODY_LIMIT = 1024 * 1024;

/**
 * `POST /v4/timpush/{command}?sdkappid=&identifier=&usersig=&random=&contenttype=json`. Every answer,
 * errors included, is HTTP 200 with Tencent's envelope (reference §1.3).
 */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps & { log: Logger }): Promise<void> {
  // The body is read as text whatever its content type: Tencent clients do not all send
  // application/json, and a body that is not JSON must be answered with 90001, not an HTTP error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(200).send(fail(TimCode.bodyTooLarge, 'request body is too large'));
    if (err.statusCode && err.statusCode < 500) return reply.code(200).send(fail(TimCode.httpParse, err.message));
    deps.log.error({ err }, 'admin API failure');
    return reply.code(200).send(fail(TimCode.internal, 'internal error, retry later'));
  });

  app.post('/v4/timpush/:command', async (req: FastifyRequest<{ Params: { command: string } }>, reply: FastifyReply) => {
    const command = Object.hasOwn(adminCommands, req.params.command) ? adminCommands[req.params.command] : undefined;
    const label = command ? req.params.command : 'unknown';
    try {
      if (!command) throw new TimError(TimCode.badResourceUrl, `unknown command v4/timpush/${req.params.command}`);
      // a malformed query string is Tencent's 60002, as in authenticateAdmin
      const badQuery = jsonInputProblem(req.query);
      if (badQuery) throw new TimError(TimCode.httpParse, `query string: ${badQuery}`);
      const caller = await authenticateAdmin(req.query, deps.apps, command.adminCode, { guard: deps.authFailures, address: req.ip });
      const body = parseBody(req.body);
      const answer = ok(await command.handle(caller, body, deps));
      deps.metrics.adminRequests.inc({ command: label, code: 0 });
      return reply.send(answer);
    } catch (err) {
      if (!(err instanceof TimError)) throw err;
      deps.metrics.adminRequests.inc({ command: label, code: err.code });
      return reply.send(fail(err.code, err.message));
    }
  });
}

function parseBody(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string' || raw.trim() === '') throw new TimError(TimCode.jsonParse, 'request body is empty');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new TimError(TimCode.jsonParse, 'request body is not valid JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TimError(TimCode.jsonParse, 'request body must be a JSON object');
  const problem = jsonInputProblem(json);
  if (problem) throw new TimError(TimCode.jsonParse, problem);
  return json as Record<string, unknown>;
}

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A stand-in for the Herald server: just enough of docs/protocol.md to drive the client. */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type Frame = Record<string, unknown>;

export class FakeConn {
  readonly frames: Frame[] = [];
  closed?: { code: number; reason: string };

  constructor(readonly ws: WebSocket) {}

  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame));
  }

  msg(seq: number, id: string, title = `title ${id}`): void {
    this.send({ t: 'msg', seq, id, m: { title, desc: 'd', sentAt: 1, expiresAt: 2, info: { PushFlag: 0 } } });
  }

  ofType(t: string): Frame[] {
    return this.frames.filter((f) => f.t === t);
  }
}

export interface FakeServerOptions {
  /** Reply to POST /device/v1/register; n counts from 1. */
  register?: (req: RecordedRequest, n: number) => { status: number; body: unknown };
  /** Called with each auth frame; the default answers `ready`. */
  onAuth?: (conn: FakeConn, auth: Frame, n: number) => void;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  conns: FakeConn[];
  auths: Frame[];
  close(): Promise<void>;
}

export function ready(conn: FakeConn, auth: Frame, heartbeatSeconds = 30): void {
  conn.send({ t: 'ready', registrationId: auth.registrationId, heartbeatSeconds, serverTime: Date.now() });
}

export async function startFakeServer(opts: FakeServerOptions = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const conns: FakeConn[] = [];
  const auths: Frame[] = [];
  let registers = 0;

  const http: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(rec);
      let status = 200;
      let body: unknown = { ok: true };
      if (rec.path === '/device/v1/register') {
        registers++;
        const r = opts.register?.(rec, registers) ?? {
          status: 200,
          body: { registrationId: 'r_test', credential: `cred-${registers}`, heartbeatSeconds: 30, gatewayPath: '/gateway/v1' },
        };
        status = r.status;
        body = r.body;
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });

  const wss = new WebSocketServer({ server: http, path: '/gateway/v1' });
  wss.on('connection', (ws) => {
    const conn = new FakeConn(ws);
    conns.push(conn);
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      conn.frames.push(frame);
      if (frame.t === 'auth') {
        auths.push(frame);
        if (opts.onAuth) opts.onAuth(conn, frame, auths.length);
        else ready(conn, frame);
      }
    });
    ws.on('close', (code, reason) => (conn.closed = { code, reason: String(reason) }));
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    conns,
    auths,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true; fails with `what` after `ms`. */
export async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

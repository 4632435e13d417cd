import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Delivery, LocalSessions, SessionSink } from '../cluster/index.js';
import { retryAfterSeconds, type FailureGuard } from '../limits/index.js';
import type { Logger } from '../log.js';
import { CloseCode, PING, PONG, parseClientFrame, readyFrame } from './frames.js';
import { Session, type AuthedDevice } from './session.js';

export const GATEWAY_PATH = '/gateway/v1';
const MAX_CLIENT_FRAME = 16 * 1024;
const BACKLOG_PAGE = 500;

export interface GatewayDeps {
  /** Checks a device's credential; null when it does not open this device. */
  authenticate(sdkAppId: number, registrationId: string, credential: string, sdkVersion?: string): Promise<AuthedDevice | null>;
  /** Runs once a device is authenticated, before its backlog is read (fan-out on read writes its missed pushes here). */
  catchUp?(device: AuthedDevice): Promise<void>;
  /** The device's waiting messages after `afterSeq`, oldest first, at most `limit`. */
  backlog(device: AuthedDevice, afterSeq: number, limit: number): Promise<Delivery[]>;
  /** The device handed these messages to the app. */
  acked(device: AuthedDevice, seqs: number[]): void;
  /** The user opened the notification of this message. */
  clicked(device: AuthedDevice, messageId: string): void;
  heartbeatSeconds: number;
  /** Defaults: 10 s to send auth; dead after 2 × heartbeat + 10 s of silence (docs/protocol.md §3.5). */
  authTimeoutMs?: number;
  deadAfterMs?: number;
  /** Default: heartbeatSeconds. The server pings a device it has sent nothing to for this long. */
  pingAfterMs?: number;
  /** Default 4 MiB: a device with more unsent bytes queued is disconnected. */
  maxBufferedBytes?: number;
  /** The client's address of an upgrade request (behind trusted proxies, the forwarded one). */
  addressOf(req: IncomingMessage): string;
  /** Failed auth frames per address and app; past the bound, auth is refused with 4429. */
  authFailures: FailureGuard;
  log: Logger;
}

export interface GatewayStats {
  connections: number;
  authenticated: number;
}

/**
 * The long-connection channel: WebSocket sessions on the HTTP server's port. Heartbeats and
 * timeouts are checked by one sweep over all sessions, not a timer per connection.
 */
export class Gateway implements LocalSessions {
  private wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_CLIENT_FRAME, clientTracking: false });
  private sessions = new Set<Session>();
  /** Authenticated sessions by app, then RegistrationID: lookups build no key strings. */
  private byApp = new Map<number, Map<string, Session>>();
  private authenticated = 0;
  private sweep: NodeJS.Timeout;
  private authTimeoutMs: number;
  private deadAfterMs: number;
  private pingAfterMs: number;
  private onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);

  constructor(private server: Server, private deps: GatewayDeps) {
    server.on('upgrade', this.onUpgrade);
    this.authTimeoutMs = deps.authTimeoutMs ?? 10_000;
    this.deadAfterMs = deps.deadAfterMs ?? 2 * deps.heartbeatSeconds * 1000 + 10_000;
    this.pingAfterMs = deps.pingAfterMs ?? deps.heartbeatSeconds * 1000;
    const every = Math.min(5000, this.pingAfterMs / 2, this.authTimeoutMs / 2, this.deadAfterMs / 4);
    this.sweep = setInterval(() => this.sweepSessions(), every);
    this.sweep.unref();
  }

  get(appId: number, registrationId: string): SessionSink | undefined {
    return this.byApp.get(appId)?.get(registrationId);
  }

  connectedDevices(appId: number): string[] {
    return [...(this.byApp.get(appId)?.keys() ?? [])];
  }

  stats(): GatewayStats {
    return { connections: this.sessions.size, authenticated: this.authenticated };
  }

  async close(): Promise<void> {
    this.server.off('upgrade', this.onUpgrade);
    clearInterval(this.sweep);
    for (const s of this.sessions) s.close(CloseCode.goingAway, 'server shutting down');
    this.sessions.clear();
    this.byApp.clear();
    this.authenticated = 0;
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== GATEWAY_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const address = this.deps.addressOf(req);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, address));
  }

  private accept(ws: WebSocket, address: string): void {
    const session = new Session(ws, address, Date.now(), this.deps.maxBufferedBytes ?? 4 * 1024 * 1024);
    this.sessions.add(session);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(session, data, isBinary));
    ws.on('close', () => this.drop(session));
    ws.on('error', (err) => {
      // ws reports oversized frames here before closing with 1009
      this.deps.log.debug({ err: err.message }, 'gateway socket error');
    });
  }

  private drop(session: Session): void {
    session.markClosed();
    this.sessions.delete(session);
    const d = session.device;
    const devices = d ? this.byApp.get(d.appId) : undefined;
    if (d && devices?.get(d.registrationId) === session) {
      devices.delete(d.registrationId);
      this.authenticated--;
      if (devices.size === 0) this.byApp.delete(d.appId);
    }
  }

  private onFrame(session: Session, data: RawData, isBinary: boolean): void {
    session.lastRecv = Date.now();
    if (isBinary) return session.close(CloseCode.invalidFrame, 'binary frames are not part of the protocol');
    const parsed = parseClientFrame(data.toString());
    if (!parsed.ok) return session.close(CloseCode.invalidFrame, parsed.message);
    const f = parsed.frame;
    if (!session.authed) {
      if (f.t !== 'auth' || session.device) return session.close(CloseCode.invalidFrame, 'the first frame must be auth');
      void this.authenticate(session, f.sdkAppId, f.registrationId, f.credential, f.sdkVersion);
      return;
    }
    const device = session.device!;
    switch (f.t) {
      case 'ack':
        this.deps.acked(device, f.seqs);
        return;
      case 'click':
        this.deps.clicked(device, f.id);
        return;
      case 'ping':
        session.send(PONG);
        return;
      case 'pong':
        return;
      case 'auth':
        return session.close(CloseCode.invalidFrame, 'already authenticated');
    }
  }

  private async authenticate(session: Session, sdkAppId: number, registrationId: string, credential: string, sdkVersion?: string): Promise<void> {
    // Mark the session as having sent auth, so a second auth frame during the lookup is refused.
    session.device = { appId: sdkAppId, registrationId, locale: null };
    const address = session.address!;
    session.address = null;
    let device: AuthedDevice | null;
    try {
      const refused = await this.deps.authFailures.refusal(address, sdkAppId);
      if (refused) return session.close(CloseCode.rateLimited, `too many failed authentications; retry in ${retryAfterSeconds(refused)} s`);
      device = await this.deps.authenticate(sdkAppId, registrationId, credential, sdkVersion);
      if (!device) await this.deps.authFailures.failed(address, sdkAppId);
    } catch (err) {
      this.deps.log.error({ err }, 'gateway auth lookup failed');
      return session.close(CloseCode.goingAway, 'temporarily unavailable');
    }
    if (session.closed) return;
    if (!device) return session.close(CloseCode.authFailed, 'unknown device or wrong credential');
    session.beginResume(device);
    let devices = this.byApp.get(device.appId);
    if (!devices) this.byApp.set(device.appId, (devices = new Map()));
    const previous = devices.get(device.registrationId);
    devices.set(device.registrationId, session);
    if (!previous) this.authenticated++;
    if (previous && previous !== session) previous.close(CloseCode.replaced, 'replaced by a newer connection');
    session.send(readyFrame(device.registrationId, this.deps.heartbeatSeconds, Date.now()));
    try {
      await this.deps.catchUp?.(device);
      if (session.closed) return;
      let after = 0;
      for (;;) {
        const page = await this.deps.backlog(device, after, BACKLOG_PAGE);
        if (session.closed) return;
        for (const d of page) {
          const full = session.sendBacklog(d);
          if (full && !(await this.drained(full))) {
            return session.close(CloseCode.timeout, 'device does not read its frames');
          }
          if (session.closed) return;
        }
        if (page.length < BACKLOG_PAGE) break;
        after = page[page.length - 1]!.seq;
      }
      session.endResume();
    } catch (err) {
      this.deps.log.error({ err }, 'gateway backlog failed');
      session.close(CloseCode.goingAway, 'temporarily unavailable');
    }
  }

  /** Waits for a full socket to take its frames; false if it does not within the dead-connection time. */
  private async drained(write: Promise<void>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.deadAfterMs)));
    const ok = await Promise.race([write.then(() => true as const), timeout]);
    clearTimeout(timer);
    return ok;
  }

  private sweepSessions(): void {
    const now = Date.now();
    for (const s of this.sessions) {
      if (!s.authed) {
        if (now - s.lastRecv > this.authTimeoutMs) s.close(CloseCode.timeout, 'auth not sent in time');
        continue;
      }
      if (now - s.lastRecv > this.deadAfterMs) s.close(CloseCode.timeout, 'heartbeat timeout');
      else if (now - s.lastSent >= this.pingAfterMs) s.send(PING);
    }
  }
}

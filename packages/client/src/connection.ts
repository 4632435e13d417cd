import { HeraldError } from './errors.js';
import type { CallInvitation, ChatDetails, PushMessage, WebSocketConstructorLike, WebSocketLike } from './types.js';
import { SDK_VERSION } from './version.js';

/** One gateway WebSocket (protocol §3): auth, frame parsing, heartbeats. Reconnecting is the client's job. */

export interface ReadyInfo {
  registrationId: string;
  heartbeatSeconds: number;
  serverTime: number;
}

export interface ConnectionEvents {
  onReady(info: ReadyInfo): void;
  onMessage(msg: WireMessage): void;
  onRevoke(id: string): void;
  /** Called exactly once, also when the socket could not be opened at all. */
  onClose(code: number, reason: string): void;
  /** A server frame that could not be understood; the connection carries on. */
  onProtocolError(err: HeraldError): void;
}

export interface ConnectionOptions {
  WebSocket: WebSocketConstructorLike;
  url: string;
  sdkAppId: number;
  registrationId: string;
  credential: string;
  /** From the register reply until the `ready` frame says otherwise. */
  heartbeatSeconds: number;
  events: ConnectionEvents;
}

/** Silence allowed beyond two heartbeats before the connection counts as dead (§3.5). */
export const DEAD_GRACE_MS = 10_000;
/** How long close() waits for the closing handshake before dropping the socket. */
const CLOSE_WAIT_MS = 3_000;
const OPEN = 1;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

type State = 'connecting' | 'authing' | 'ready' | 'closing' | 'closed';

export class GatewayConnection {
  private ws?: WebSocketLike;
  private state: State = 'connecting';
  private heartbeatMs: number;
  private lastSent = Date.now();
  private lastRecv = Date.now();
  /** The only timer: next heartbeat check, or the close wait. Re-armed when it fires, not per frame. */
  private timer?: ReturnType<typeof setTimeout>;
  private serverError?: { code: string; message: string };
  private closeWaiters: Array<() => void> = [];

  constructor(private readonly o: ConnectionOptions) {
    this.heartbeatMs = o.heartbeatSeconds * 1000;
    try {
      this.ws = new o.WebSocket(o.url);
    } catch (err) {
      // Report asynchronously so the owner has stored this connection before hearing about it.
      const reason = `cannot open ${o.url}: ${err instanceof Error ? err.message : String(err)}`;
      setTimeout(() => this.finish(1006, reason), 0);
      return;
    }
    const ws = this.ws;
    ws.addEventListener('open', () => this.onOpen());
    ws.addEventListener('message', (ev) => this.onData(ev.data));
    ws.addEventListener('close', (ev) => this.finish(ev.code, ev.reason));
    // A close event always follows an error, and browsers hide the details, so the close is what we act on.
    ws.addEventListener('error', () => undefined);
    this.arm();
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** The credential this connection authenticated with (to tell a stale 4401 from a real one). */
  get credential(): string {
    return this.o.credential;
  }

  sendAck(seqs: number[]): boolean {
    return this.isReady && this.send({ t: 'ack', seqs });
  }

  sendClick(id: string): boolean {
    return this.isReady && this.send({ t: 'click', id });
  }

  /** Starts the closing handshake; resolves once the socket is closed (or given up on). */
  close(code = 1000, reason = ''): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (this.state !== 'closing') {
      this.state = 'closing';
      this.clearTimer();
      try {
        this.ws?.close(code, reason);
      } catch {
        this.finish(code, reason);
        return done;
      }
      // A dead peer never completes the handshake.
      this.timer = setTimeout(() => {
        this.ws?.terminate?.();
        this.finish(code, reason);
      }, CLOSE_WAIT_MS);
    }
    return done;
  }

  private onOpen(): void {
    if (this.state !== 'connecting') return;
    this.state = 'authing';
    this.send({
      t: 'auth',
      sdkAppId: this.o.sdkAppId,
      registrationId: this.o.registrationId,
      credential: this.o.credential,
      sdkVersion: SDK_VERSION,
    });
    this.arm();
  }

  private onData(data: unknown): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.lastRecv = Date.now();
    if (typeof data !== 'string') return this.protocolError('binary frame ignored');
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return this.protocolError('frame is not JSON');
    }
    if (!isObject(frame)) return this.protocolError('frame is not an object');
    switch (frame.t) {
      case 'ready': {
        this.state = 'ready';
        const hb = frame.heartbeatSeconds;
        if (typeof hb === 'number' && hb > 0) this.heartbeatMs = hb * 1000;
        this.arm(); // heartbeat may have changed, and pings start now
        this.o.events.onReady({
          registrationId: typeof frame.registrationId === 'string' ? frame.registrationId : this.o.registrationId,
          heartbeatSeconds: this.heartbeatMs / 1000,
          serverTime: typeof frame.serverTime === 'number' ? frame.serverTime : Date.now(),
        });
        return;
      }
      case 'msg': {
        const msg = toPushMessage(frame);
        if (!msg) return this.protocolError('msg frame without a valid seq, id or m');
        this.o.events.onMessage(msg);
        return;
      }
      case 'revoke':
        if (typeof frame.id !== 'string') return this.protocolError('revoke frame without id');
        this.o.events.onRevoke(frame.id);
        return;
      case 'ping':
        this.send({ t: 'pong' });
        return;
      case 'pong':
        return;
      case 'error':
        // The close that follows carries the code; keep the text for its reason.
        this.serverError = {
          code: typeof frame.code === 'string' ? frame.code : 'error',
          message: typeof frame.message === 'string' ? frame.message : '',
        };
        return;
      default:
        return; // newer server frame types are ignored, like unknown fields
    }
  }

  private send(frame: Record<string, unknown>): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.state === 'closing' || this.state === 'closed') return false;
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      return false;
    }
    this.lastSent = Date.now();
    return true;
  }

  private arm(): void {
    this.clearTimer();
    const deadAt = this.lastRecv + 2 * this.heartbeatMs + DEAD_GRACE_MS;
    // Pings only once authenticated: before `ready` the server expects nothing but `auth`.
    const pingAt = this.state === 'ready' ? this.lastSent + this.heartbeatMs : Infinity;
    const delay = Math.min(deadAt, pingAt) - Date.now();
    this.timer = setTimeout(() => this.tick(), Math.min(MAX_TIMEOUT_MS, Math.max(0, delay)));
  }

  private tick(): void {
    this.timer = undefined;
    if (this.state === 'closing' || this.state === 'closed') return;
    const now = Date.now();
    if (now - this.lastRecv >= 2 * this.heartbeatMs + DEAD_GRACE_MS) {
      this.abort(4408, 'heartbeat timeout');
      return;
    }
    if (this.state === 'ready' && now - this.lastSent >= this.heartbeatMs) this.send({ t: 'ping' });
    this.arm();
  }

  /** Gives up on a dead socket at once: a closing handshake with a silent peer would only stall. */
  private abort(code: number, reason: string): void {
    this.state = 'closing';
    try {
      if (this.ws?.terminate) this.ws.terminate();
      else this.ws?.close(code, reason);
    } catch {
      // nothing more to do; we report the close ourselves
    }
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimer();
    for (const resolve of this.closeWaiters.splice(0)) resolve();
    const why = reason || (this.serverError ? `${this.serverError.code}: ${this.serverError.message}` : '');
    this.o.events.onClose(code, why);
  }

  private protocolError(message: string): void {
    this.o.events.onProtocolError(new HeraldError('bad_frame', message));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A call invitation as the `m.call` of a msg frame carries it (docs/protocol.md). */
export type WireCall = Omit<CallInvitation, 'id' | 'sentAt' | 'expiresAt' | 'title' | 'desc'>;

/** A msg frame as read: the app's message, and the call when it is an invitation. */
export interface WireMessage extends PushMessage {
  call?: WireCall;
}

function toPushMessage(frame: Record<string, unknown>): WireMessage | undefined {
  const { seq, id, m } = frame;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) return undefined;
  if (typeof id !== 'string' || !id || !isObject(m)) return undefined;
  const msg: WireMessage = {
    id,
    seq,
    title: typeof m.title === 'string' ? m.title : '',
    desc: typeof m.desc === 'string' ? m.desc : '',
    sentAt: typeof m.sentAt === 'number' ? m.sentAt : 0,
    expiresAt: typeof m.expiresAt === 'number' ? m.expiresAt : 0,
    info: isObject(m.info) ? m.info : {},
  };
  if (typeof m.ext === 'string') msg.ext = m.ext;
  if (typeof m.lang === 'string') msg.lang = m.lang;
  if (typeof m.from === 'string') msg.from = m.from;
  if (typeof frame.badge === 'number') msg.badge = frame.badge;
  if (isObject(m.chat) && (m.chat.type === 'c2c' || m.chat.type === 'group') && typeof m.chat.id === 'string') {
    const { type, id: convId, ...details } = m.chat;
    msg.conversation = { type, id: convId };
    msg.chat = details as unknown as ChatDetails;
  }
  if (isObject(m.call) && typeof m.call.callId === 'string') msg.call = m.call as unknown as WireCall;
  return msg;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

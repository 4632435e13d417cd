import { AckBatcher } from './acks.js';
import { Backoff } from './backoff.js';
import { GatewayConnection, type ReadyInfo, type WireMessage } from './connection.js';
import { Emitter } from './emitter.js';
import { defaultLocale, defaultPlatform, defaultTimeZone, defaultWebSocket } from './env.js';
import { HeraldError, isTransient, toError } from './errors.js';
import { DeviceApi, gatewayUrl, type DeviceAuth, type RegisterBody } from './http.js';
import { DeviceState, type Registration } from './state.js';
import { defaultStorage } from './storage.js';
import type {
  ConversationType,
  DeviceInfo,
  DoNotDisturb,
  HeraldClientOptions,
  HeraldEventHandler,
  HeraldEventName,
  HeraldEvents,
  MutedConversation,
  NotificationClickEvent,
  WebSocketConstructorLike,
} from './types.js';
import { clickOf, DELIVERED_KEPT, type Delivered } from './clicks.js';
import { SDK_VERSION } from './version.js';

/** Device fields the server knows (protocol §2.1); anything else is not sent. */
const DEVICE_FIELDS = [
  'platform',
  'vendor',
  'token',
  'voipToken',
  'certificateId',
  'locale',
  'timeZone',
  'appVersion',
  'deviceModel',
  'osVersion',
  'notificationPermission',
] as const satisfies ReadonlyArray<keyof DeviceInfo>;

const CLOSE_AUTH_FAILED = 4401;
const CLOSE_REPLACED = 4409;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The Herald client: registers the device, holds one gateway connection with automatic
 * reconnects, hands each message to the app once and acks it.
 */
export class HeraldClient {
  private readonly server: string;
  private readonly sdkAppId: number;
  private readonly customRegistrationId?: string;
  private readonly device: Partial<DeviceInfo> & Pick<DeviceInfo, 'platform'>;
  private readonly api: DeviceApi;
  private readonly state: DeviceState;
  private readonly backoff: Backoff;
  private readonly acks: AckBatcher;
  private readonly events = new Emitter<HeraldEvents>();
  private readonly webSocketOption?: WebSocketConstructorLike;
  private webSocketCtor?: Promise<WebSocketConstructorLike>;

  private loading?: Promise<void>;
  private registering?: Promise<Registration>;
  private conn?: GatewayConnection;
  /** connect() was called and neither disconnect() nor a terminal close has happened since. */
  private wanted = false;
  /** Bumped whenever `wanted` flips, so async steps started for an older session give up. */
  private epoch = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  /** A 4401 already led to one re-register; another 4401 before `ready` is final. */
  private reauthTried = false;
  private pending?: Deferred;
  /** Messages and revokes reach the app one at a time, in the order the server sent them. */
  private inbox: Promise<void> = Promise.resolve();
  private delivered = new Map<string, Delivered>();

  constructor(opts: HeraldClientOptions) {
    const server = new URL(opts.server).toString(); // throws early on a malformed URL
    if (!Number.isSafeInteger(opts.sdkAppId) || opts.sdkAppId <= 0) {
      throw new TypeError('sdkAppId must be a positive integer');
    }
    if (typeof opts.appKey !== 'string' || !opts.appKey) throw new TypeError('appKey is required');
    this.server = server.replace(/\/+$/, '');
    this.sdkAppId = opts.sdkAppId;
    this.customRegistrationId = opts.registrationId;
    this.webSocketOption = opts.WebSocket;

    const detected: Partial<DeviceInfo> = { locale: defaultLocale(), timeZone: defaultTimeZone() };
    this.device = { platform: defaultPlatform(), ...pickDevice(detected), ...pickDevice(opts.device ?? {}) };

    // Wrapped so a browser's window.fetch is never called with the wrong `this`.
    const fetchFn: typeof fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.api = new DeviceApi({ server: this.server, sdkAppId: this.sdkAppId, appKey: opts.appKey, fetch: fetchFn });
    this.state = new DeviceState({
      storage: opts.storage ?? defaultStorage(opts.storagePath),
      key: `herald:${this.sdkAppId}`,
      server: this.server,
      onError: (err) => this.reportError(err),
    });
    this.backoff = new Backoff(opts.reconnect?.minDelayMs ?? 500, opts.reconnect?.maxDelayMs ?? 30_000);
    this.acks = new AckBatcher(opts.ackDelayMs ?? 20, (seqs) => this.conn?.sendAck(seqs) ?? false);
  }

  // ---- public API ----

  on<E extends HeraldEventName>(event: E, handler: HeraldEventHandler<E>): this {
    this.events.on(event, handler);
    return this;
  }

  off<E extends HeraldEventName>(event: E, handler: HeraldEventHandler<E>): this {
    this.events.off(event, handler);
    return this;
  }

  /** The stored RegistrationID; undefined until storage has been read by an async call, or if not registered. */
  getRegistrationID(): string | undefined {
    return this.state.registration?.registrationId;
  }

  /** Registers (or re-registers: same installId, new credential) and stores the result. */
  async registerPush(): Promise<{ registrationId: string }> {
    const reg = await this.register();
    return { registrationId: reg.registrationId };
  }

  /**
   * Resolves at the first `ready`. Transient failures (network, 5xx, dropped sockets) are retried
   * with back-off meanwhile; it rejects on a final one (bad app key, 4401 twice, 4409) or when
   * disconnect() is called first.
   */
  connect(): Promise<void> {
    if (this.wanted && this.conn?.isReady) return Promise.resolve();
    const pending = (this.pending ??= deferred());
    if (!this.wanted) {
      this.wanted = true;
      this.epoch++;
      this.reauthTried = false;
      this.backoff.reset();
      void this.open(this.epoch, false);
    }
    return pending.promise;
  }

  /** Closes the connection with 1000 and stops reconnecting. */
  async disconnect(): Promise<void> {
    const conn = this.conn;
    this.stopSession();
    this.rejectPending(new HeraldError('disconnected', 'disconnect() was called before the gateway was ready'));
    if (conn) {
      this.acks.flush(); // acks for what the app has already handled
      await conn.close(1000, 'client disconnect');
    }
    this.acks.clear();
    await this.state.flush(); // seen ids now rather than after the debounce
  }

  async bindUser(userId: string): Promise<void> {
    await this.withDevice((auth) => this.api.bind(auth, userId));
  }

  async unbindUser(): Promise<void> {
    await this.withDevice((auth) => this.api.unbind(auth));
  }

  /** Sends the changed fields; they are also kept for later re-registers. `null` clears token/voipToken/vendor/certificateId. */
  async updateDevice(fields: Partial<DeviceInfo>): Promise<void> {
    await this.load();
    const changed = pickDevice(fields, true);
    Object.assign(this.device, changed);
    // Not registered yet: registering sends the merged fields, no separate update needed.
    if (!this.usableRegistration()) {
      await this.register();
      return;
    }
    await this.withDevice((auth) => this.api.update(auth, changed));
  }

  /** Removes the device on the server, stops the connection and forgets the registration (the installId stays). */
  async unregister(): Promise<void> {
    await this.load();
    // Stop first: the server closes an unregistered device's connection with 4401, which would
    // otherwise make us register again.
    await this.disconnect();
    const reg = this.state.registration;
    if (reg) {
      try {
        await this.api.unregister(reg);
      } catch (err) {
        if (!isInvalidCredential(err)) throw err; // already gone is fine
      }
    }
    await this.state.setRegistration(undefined);
  }

  /**
   * The user tapped a notification the vendor showed (APNs, FCM, Web Push, the Android makers):
   * hand this the custom data the push carried (the keys beside `aps`, FCM's `data`, the Android
   * makers' extras, the Web Push payload: docs/vendors.md). The click is counted, and `notificationClicked` tells the app the Ext and
   * the conversation to open. Returns false when the data is not a Herald push.
   */
  async handleNotificationClick(data: Record<string, unknown>): Promise<boolean> {
    const click = clickOf(data);
    if (!click) return false;
    this.fire('notificationClicked', click);
    await this.countClick(click.id);
    return true;
  }

  /**
   * Counts a click on a message: on the gateway when connected, else over HTTP. For a message the
   * SDK delivered, `notificationClicked` tells the app its Ext and conversation.
   */
  async reportClick(messageId: string): Promise<void> {
    const known = this.delivered.get(messageId);
    if (known) {
      const click: NotificationClickEvent = { id: messageId };
      if (known.ext !== undefined) click.ext = known.ext;
      if (known.conversation) click.conversation = known.conversation;
      this.fire('notificationClicked', click);
    }
    await this.countClick(messageId);
  }

  private async countClick(messageId: string): Promise<void> {
    if (this.conn?.sendClick(messageId)) return;
    await this.withDevice((auth) => this.api.click(auth, messageId));
  }

  // ---- the bound user's conversation settings (the device must be bound: bindUser) ----

  /** Mutes a conversation for the user on every device, until `until` or until unmuted. */
  async muteConversation(type: ConversationType, id: string, until?: Date | number): Promise<void> {
    const at = until instanceof Date ? until.getTime() : (until ?? null);
    await this.withDevice((auth) => this.api.mute(auth, type, id, at));
  }

  async unmuteConversation(type: ConversationType, id: string): Promise<void> {
    await this.withDevice((auth) => this.api.unmute(auth, type, id));
  }

  /** The user's conversations muted now. */
  async getMutedConversations(): Promise<MutedConversation[]> {
    return this.withDevice((auth) => this.api.mutes(auth));
  }

  /** No chat notifications in these daily hours, in `timeZone` (default: the device's). */
  async setDoNotDisturb(dnd: DoNotDisturb): Promise<void> {
    await this.withDevice((auth) => this.api.setDnd(auth, dnd));
  }

  async getDoNotDisturb(): Promise<DoNotDisturb | null> {
    return this.withDevice((auth) => this.api.getDnd(auth));
  }

  async clearDoNotDisturb(): Promise<void> {
    await this.withDevice((auth) => this.api.clearDnd(auth));
  }

  /** Sets the user's unread count, the badge chat notifications count up from. */
  async setBadge(count: number): Promise<void> {
    await this.withDevice((auth) => this.api.setBadge(auth, count));
  }

  async resetBadge(): Promise<void> {
    await this.setBadge(0);
  }

  // ---- registration ----

  private load(): Promise<void> {
    this.loading ??= this.state.load().catch((err: unknown) => {
      this.loading = undefined; // let the next call try again
      throw err;
    });
    return this.loading;
  }

  /** The stored registration if it still matches what this client was asked for. */
  private usableRegistration(): Registration | undefined {
    const reg = this.state.registration;
    if (!reg) return undefined;
    if (this.customRegistrationId !== undefined && reg.registrationId !== this.customRegistrationId) return undefined;
    return reg;
  }

  private async ensureRegistered(): Promise<Registration> {
    await this.load();
    return this.usableRegistration() ?? this.register();
  }

  /** POST /register; concurrent callers share one request. */
  private register(): Promise<Registration> {
    this.registering ??= (async () => {
      await this.load();
      const body: RegisterBody = {
        ...pickDevice(this.device),
        platform: this.device.platform,
        installId: this.state.installId,
        sdkVersion: SDK_VERSION,
      };
      if (this.customRegistrationId !== undefined) body.registrationId = this.customRegistrationId;
      const reply = await this.api.register(body);
      const reg: Registration = { ...reply, server: this.server };
      // Kept in memory even if storage fails: registering worked, only persistence did not.
      await this.state.setRegistration(reg).catch((err: unknown) => this.reportError(err));
      return reg;
    })().finally(() => {
      this.registering = undefined;
    });
    return this.registering;
  }

  /** Runs a device call; if the credential was refused, registers again once and retries. */
  private async withDevice<T>(call: (auth: DeviceAuth) => Promise<T>): Promise<T> {
    const reg = await this.ensureRegistered();
    try {
      return await call(reg);
    } catch (err) {
      if (!isInvalidCredential(err)) throw err;
      return call(await this.register());
    }
  }

  // ---- connection lifecycle ----

  private async open(epoch: number, reauth: boolean): Promise<void> {
    let reg: Registration;
    let WebSocket: WebSocketConstructorLike;
    try {
      reg = reauth ? await this.register() : await this.ensureRegistered();
      WebSocket = await this.loadWebSocket();
    } catch (err) {
      if (epoch !== this.epoch) return;
      // The re-register after a 4401 gets one chance (protocol §3.5: "no: register again"), but an
      // answer that says "not now" (rate limited, server down, no network) does not use it up: it
      // is asked again after the back-off.
      if (isTransient(err)) {
        this.reportError(err);
        this.scheduleReconnect(epoch, reauth);
      } else {
        this.halt(toError(err), true);
      }
      return;
    }
    if (epoch !== this.epoch) return;
    const conn: GatewayConnection = new GatewayConnection({
      WebSocket,
      url: gatewayUrl(this.server, reg.gatewayPath),
      sdkAppId: this.sdkAppId,
      registrationId: reg.registrationId,
      credential: reg.credential,
      heartbeatSeconds: reg.heartbeatSeconds,
      events: {
        onReady: (info) => this.onReady(conn, info),
        onMessage: (msg) => this.onMessage(conn, msg),
        onRevoke: (id) => this.onRevoke(conn, id),
        onClose: (code, reason) => this.onClose(conn, code, reason),
        onProtocolError: (err) => {
          if (this.conn === conn) this.reportError(err);
        },
      },
    });
    this.conn = conn;
  }

  private loadWebSocket(): Promise<WebSocketConstructorLike> {
    this.webSocketCtor ??= (this.webSocketOption ? Promise.resolve(this.webSocketOption) : defaultWebSocket()).catch(
      (err: unknown) => {
        this.webSocketCtor = undefined;
        throw new HeraldError('no_websocket', 'no WebSocket implementation: pass options.WebSocket or install "ws"', 0, {
          cause: err,
        });
      },
    );
    return this.webSocketCtor;
  }

  private onReady(conn: GatewayConnection, info: ReadyInfo): void {
    if (this.conn !== conn) return;
    this.backoff.reset();
    this.reauthTried = false;
    this.acks.flush(); // acks left over from a previous connection; seqs are per device
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve();
    this.fire('ready', { registrationId: info.registrationId });
  }

  private onClose(conn: GatewayConnection, code: number, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    if (!this.wanted) {
      this.fire('disconnected', { code, reason, willReconnect: false });
      return;
    }
    const epoch = this.epoch;
    if (code === CLOSE_REPLACED) {
      this.fire('disconnected', { code, reason, willReconnect: false });
      this.halt(new HeraldError('replaced', 'a newer connection of this device replaced this one (4409)'), false);
      return;
    }
    if (code === CLOSE_AUTH_FAILED) {
      if (this.state.registration && this.state.registration.credential !== conn.credential) {
        // registerPush() rotated the credential while this connection was open: just use the new one.
        this.fire('disconnected', { code, reason, willReconnect: true });
        void this.open(epoch, false);
      } else if (!this.reauthTried) {
        this.reauthTried = true;
        this.fire('disconnected', { code, reason, willReconnect: true });
        void this.open(epoch, true);
      } else {
        this.fire('disconnected', { code, reason, willReconnect: false });
        this.halt(new HeraldError('auth_failed', `the gateway refused the new credential too (4401 ${reason})`), true);
      }
      return;
    }
    this.fire('disconnected', { code, reason, willReconnect: true });
    this.scheduleReconnect(epoch);
  }

  /** `reauth`: the next attempt registers again first (a re-register after 4401 that could not be made). */
  private scheduleReconnect(epoch: number, reauth = false): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (epoch === this.epoch && this.wanted) void this.open(epoch, reauth);
    }, this.backoff.next());
  }

  /** Ends the session: no reconnects, and queued messages are left for the next connection. */
  private stopSession(): void {
    this.wanted = false;
    this.epoch++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  /** A final failure: stop, fail a pending connect(), and (unless the close says it all) emit 'error'. */
  private halt(err: Error, emitError: boolean): void {
    this.stopSession();
    this.acks.clear();
    this.rejectPending(err);
    if (emitError) this.fire('error', err);
    this.state.flush().catch((e: unknown) => this.reportError(e));
  }

  private rejectPending(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  // ---- delivery ----

  private onMessage(conn: GatewayConnection, wire: WireMessage): void {
    if (this.conn !== conn) return;
    const epoch = this.epoch;
    const { call, ...msg } = wire;
    this.enqueue(async () => {
      // After disconnect() nothing more reaches the app; unacked messages are resent next time.
      if (epoch !== this.epoch) return;
      if (this.state.seen.has(msg.id)) {
        this.acks.add(msg.seq); // a resend: ack so the server stops sending it, but do not show it again
        return;
      }
      // Nobody to hand it to: leave it unacked so it is resent on the next connection.
      if (this.events.listenerCount(call ? 'call' : 'message') === 0) return;
      this.state.markSeen(msg.id); // before the handler, so a resend arriving meanwhile is not shown twice
      this.remember(msg.id, { ext: msg.ext, conversation: msg.conversation, callId: call?.callId });
      const results = await Promise.allSettled(
        call ? this.events.emit('call', { ...call, id: msg.id, sentAt: msg.sentAt, expiresAt: msg.expiresAt, title: msg.title, desc: msg.desc }) : this.events.emit('message', msg),
      );
      // A failing handler still got the message; acking avoids resending it forever.
      for (const r of results) if (r.status === 'rejected') this.reportError(r.reason);
      if (epoch === this.epoch) this.acks.add(msg.seq);
    });
  }

  private onRevoke(conn: GatewayConnection, id: string): void {
    if (this.conn !== conn) return;
    const epoch = this.epoch;
    this.enqueue(() => {
      if (epoch !== this.epoch) return;
      this.fire('revoke', id);
      const callId = this.delivered.get(id)?.callId;
      if (callId !== undefined) this.fire('callCancelled', { id, callId });
    });
  }

  /** What the app was handed under a message id, for clicks and cancelled calls (the latest few hundred). */
  private remember(id: string, d: Delivered): void {
    this.delivered.set(id, d);
    if (this.delivered.size > DELIVERED_KEPT) this.delivered.delete(this.delivered.keys().next().value!);
  }

  private enqueue(task: () => void | Promise<void>): void {
    this.inbox = this.inbox.then(task).catch((err: unknown) => this.reportError(err));
  }

  private fire<E extends HeraldEventName>(event: E, payload: HeraldEvents[E]): void {
    for (const result of this.events.emit(event, payload)) {
      Promise.resolve(result).catch((err: unknown) => {
        if (event !== 'error') this.reportError(err); // an 'error' listener that fails has nowhere to go
      });
    }
  }

  private reportError(err: unknown): void {
    this.fire('error', toError(err));
  }
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Failures also surface as events; an un-awaited connect() must not crash Node with an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Known device fields only, without undefined; `null` kept only for updates (it clears a field there). */
function pickDevice(src: Partial<DeviceInfo>, keepNull = false): Partial<DeviceInfo> {
  const out: Record<string, unknown> = {};
  for (const key of DEVICE_FIELDS) {
    const v = src[key];
    if (v === undefined || (v === null && !keepNull)) continue;
    out[key] = v;
  }
  return out as Partial<DeviceInfo>;
}

function isInvalidCredential(err: unknown): boolean {
  return err instanceof HeraldError && err.status === 401 && err.code === 'invalid_credential';
}

import crypto from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from './self-signed.js';

/**
 * Apple Push Notification service's provider API on loopback: HTTP/2 over TLS (ALPN h2) with a
 * certificate made at start, `POST /3/device/<hex token>`, token (ES256 JWT) auth. It checks what
 * APNs checks — the JWT's signature against the app's key, its kid, iss and iat age; apns-topic
 * against the bundle id (or `<bundle>.voip`); apns-push-type against the topic and the payload;
 * apns-priority, apns-expiration, apns-collapse-id (≤ 64 bytes), apns-id; the payload's JSON and
 * its 4,096-byte limit (5,120 for VoIP), the types of `thread-id`, `badge` and `interruption-level`,
 * custom keys primitive — answers 200 with apns-id or `{reason, timestamp}` bodies,
 * keeps each accepted notification, and counts concurrent streams (overall, and per session before
 * a session's first valid token, when APNs allows only one).
 * Like APNs it binds a connection to the first developer account and key whose token it takes,
 * and serves two environments, sandbox (`base`) and production (`productionBase`): a device token
 * belongs to one, and is BadDeviceToken on the other.
 * Written from vendor-protocols.md §1 on node:crypto and node:http2; it shares no code with Herald.
 */
export interface ApnsReceived {
  token: string;
  /** The request headers, lower-case, without the HTTP/2 pseudo-headers. */
  headers: Record<string, string>;
  payload: Record<string, unknown> & { aps: Record<string, unknown> };
  jwt: { kid: string; iss: string; iat: number; raw: string };
  apnsId: string;
  environment: ApnsEnvironment;
}

/** Every request, accepted or not, in arrival order. */
export interface ApnsAttempt {
  token: string;
  environment: ApnsEnvironment;
  status: number;
  reason?: string;
  jwt?: string;
}

/** APNs' two environments, each on its own host (§1.1); a device token is issued by one. */
export type ApnsEnvironment = 'sandbox' | 'production';

export interface ApnsApp {
  keyId: string;
  teamId: string;
  bundleId: string;
  /** The .p8 key as Apple hands it out: PKCS#8 P-256, PEM. */
  privateKey: string;
}

export interface ApnsEmulatorOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS the server announces. */
  maxConcurrentStreams?: number;
  /** Each answer waits this long (changeable later through `delayMs`). */
  delayMs?: number;
}

const PUSH_TYPES = new Set(['alert', 'background', 'voip', 'complication', 'fileprovider', 'mdm', 'liveactivity', 'location', 'pushtotalk']);
const INTERRUPTION_LEVELS = new Set(['passive', 'active', 'time-sensitive', 'critical']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_LIFETIME_S = 3600;

interface Failure {
  status: number;
  reason: string;
  headers: Record<string, string>;
}

/** What the emulator knows of one HTTP/2 connection. */
interface SessionState {
  environment: ApnsEnvironment;
  active: number;
  /** A request with a valid provider token has gone through: more than one stream allowed (§1.1). */
  proven: boolean;
  /** The developer account and key the connection is bound to: the first whose token it took. */
  boundTo?: { teamId: string; keyId: string };
  /** Set once a token of another account or key came: every later request gets this answer. */
  spoilt?: { status: number; reason: string };
}

/** A production device token ends with these 4 bytes of a hash of the rest; any other is a sandbox token. */
const tagOf = (body: string): string => crypto.createHash('sha256').update(`apns-emulator production ${body}`).digest('hex').slice(0, 8);
const environmentOf = (token: string): ApnsEnvironment => (token.length === 64 && tagOf(token.slice(0, 56).toLowerCase()) === token.slice(56).toLowerCase() ? 'production' : 'sandbox');

const id10 = () => crypto.randomBytes(8).toString('base64url').replace(/[^A-Za-z0-9]/g, 'X').toUpperCase().slice(0, 10).padEnd(10, 'Q');

export class ApnsEmulator {
  /** The sandbox host, `https://127.0.0.1:<port>`, once started (certificates with `production: false`). */
  base = '';
  /** The production host, on another port (certificates with `production: true`). */
  productionBase = '';
  /** The self-signed certificate the server presents, to trust as CA. */
  caCertificate = '';
  readonly received: ApnsReceived[] = [];
  readonly attempts: ApnsAttempt[] = [];
  /** The most streams open at once, over all sessions (`resetCounters()` starts over). */
  maxConcurrentStreams = 0;
  /** The most streams open at once on one session. */
  maxStreamsPerSession = 0;
  /** The most streams open at once on a session that had not yet carried a valid token (APNs: 1, §1.1). */
  maxUnprovenStreams = 0;
  sessionsOpened = 0;
  /** Requests refused because their connection was bound to another developer account or key. */
  mixedKeyRefusals = 0;
  /** Each answer waits this long, so streams overlap (for measuring multiplexing). */
  delayMs: number;
  private keys = new Map<string, { teamId: string; publicKey: crypto.KeyObject }>();
  private revoked = new Map<string, { teamId: string; publicKey: crypto.KeyObject }>();
  private verified = new Set<string>();
  private bundles = new Set<string>();
  private expired = new Set<string>();
  private dead = new Map<string, number>();
  private failures: Failure[] = [];
  private active = 0;
  private sessions = new Map<http2.Http2Session, SessionState>();
  private servers: http2.Http2SecureServer[] = [];

  constructor(private opts: ApnsEmulatorOptions = {}) {
    this.delayMs = opts.delayMs ?? 0;
  }

  /** Starts the sandbox host on `port` (returned, as `base`) and the production host on a free port. */
  async start(port = 0): Promise<string> {
    const pems = await selfSignedCertificate();
    this.caCertificate = pems.cert;
    this.base = await this.listen(pems, 'sandbox', port);
    this.productionBase = await this.listen(pems, 'production', 0);
    return this.base;
  }

  private async listen(pems: { key: string; cert: string }, environment: ApnsEnvironment, port: number): Promise<string> {
    const server = http2.createSecureServer({ key: pems.key, cert: pems.cert, allowHTTP1: false, settings: { maxConcurrentStreams: this.opts.maxConcurrentStreams ?? 500 } });
    server.on('session', (s) => {
      this.sessionsOpened++;
      this.sessions.set(s, { environment, active: 0, proven: false });
      s.on('close', () => this.sessions.delete(s));
    });
    server.on('stream', (stream, headers) => void this.onStream(stream, headers));
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sessions.keys()) s.destroy();
    await Promise.all(this.servers.map((server) => new Promise((r) => server.close(r))));
  }

  /**
   * An app with a token-auth key: what the developer portal hands out. The emulator keeps the
   * public key. Given a `teamId` (of an earlier app), the key is that team's second key.
   */
  app(bundleId = `com.example.${crypto.randomBytes(4).toString('hex')}`, teamId = id10()): ApnsApp {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyId = id10();
    this.keys.set(keyId, { teamId, publicKey });
    this.bundles.add(bundleId);
    return { keyId, teamId, bundleId, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }

  /** The developer revoked this key in the portal: APNs answers its tokens 403 InvalidProviderToken until it is restored. */
  revokeKey(keyId: string): void {
    const key = this.keys.get(keyId);
    if (!key) return;
    this.keys.delete(keyId);
    this.revoked.set(keyId, key);
  }

  restoreKey(keyId: string): void {
    const key = this.revoked.get(keyId);
    if (!key) return;
    this.revoked.delete(keyId);
    this.keys.set(keyId, key);
  }

  /**
   * A device token as iOS hands it out, 32 bytes in hex, for an app built for one environment: a
   * development build's tokens are sandbox tokens, an App Store or TestFlight build's production
   * tokens. Any 64-hex token the emulator did not make for production is a sandbox token.
   */
  static deviceToken(environment: ApnsEnvironment = 'sandbox'): string {
    for (;;) {
      const body = crypto.randomBytes(28).toString('hex');
      const token = environment === 'production' ? body + tagOf(body) : body + crypto.randomBytes(4).toString('hex');
      if (environmentOf(token) === environment) return token;
    }
  }

  /** The next request gets this answer (after the connection-level checks), e.g. 429 TooManyRequests with Retry-After. */
  failNext(status: number, reason: string, headers: Record<string, string> = {}): void {
    this.failures.push({ status, reason, headers });
  }

  /** APNs closes every connection with GOAWAY and a JSON reason (§1.1); providers must reconnect. */
  goaway(reason = 'Shutdown'): void {
    for (const s of this.sessions.keys()) {
      s.goaway(http2.constants.NGHTTP2_NO_ERROR, 0, Buffer.from(JSON.stringify({ reason })));
      s.close();
    }
  }

  resetCounters(): void {
    this.maxConcurrentStreams = 0;
    this.maxStreamsPerSession = 0;
  }

  /** The app was removed: this token answers 410 Unregistered, with the time APNs learnt it. */
  unregister(token: string): void {
    this.dead.set(token, Date.now());
  }

  /** Every provider token seen so far is expired from now on (403 ExpiredProviderToken). */
  expireProviderTokens(): void {
    for (const a of this.attempts) if (a.jwt) this.expired.add(a.jwt);
  }

  private async onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const session = this.sessions.get(stream.session!) ?? { environment: 'sandbox', active: 0, proven: false };
    this.active++;
    session.active++;
    this.maxConcurrentStreams = Math.max(this.maxConcurrentStreams, this.active);
    this.maxStreamsPerSession = Math.max(this.maxStreamsPerSession, session.active);
    if (!session.proven) this.maxUnprovenStreams = Math.max(this.maxUnprovenStreams, session.active);
    stream.on('close', () => {
      this.active--;
      session.active--;
    });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const path = String(headers[':path'] ?? '');
    const token = /^\/3\/device\/([^/?]*)$/.exec(path)?.[1] ?? '';
    const attempt: ApnsAttempt = { token, environment: session.environment, status: 0 };
    this.attempts.push(attempt);
    const reply = (status: number, reason?: string, extra: Record<string, string> = {}, body?: Record<string, unknown>) => {
      attempt.status = status;
      if (reason) attempt.reason = reason;
      if (stream.destroyed) return;
      const apnsId = typeof headers['apns-id'] === 'string' ? headers['apns-id'] : crypto.randomUUID();
      stream.respond({ ':status': status, 'apns-id': apnsId, ...(reason ? { 'content-type': 'application/json' } : {}), ...extra });
      stream.end(reason ? JSON.stringify(body ?? { reason }) : undefined);
      return apnsId;
    };

    // the request line (§1.1)
    if (headers[':method'] !== 'POST') return void reply(405, 'MethodNotAllowed');
    if (!/^\/3\/device\//.test(path)) return void reply(404, 'BadPath');
    if (!token) return void reply(400, 'MissingDeviceToken');

    // the provider token (§1.2)
    const auth = /^bearer (\S+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    if (!auth) return void reply(403, 'MissingProviderToken');
    attempt.jwt = auth;
    const jwt = this.verify(auth);
    if (typeof jwt === 'string') return void reply(403, jwt);
    const refused = this.bind(session, jwt);
    if (refused) return void reply(refused.status, refused.reason);
    session.proven = true;

    // the injected answer, if any
    const f = this.failures.shift();
    if (f) {
      if (f.status === 403 && f.reason === 'ExpiredProviderToken') this.expired.add(auth);
      return void reply(f.status, f.reason, f.headers, f.status === 410 ? { reason: f.reason, timestamp: Date.now() } : undefined);
    }

    // headers (§1.3)
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && typeof v === 'string') h[k] = v;
    const topic = h['apns-topic'];
    if (!topic) return void reply(400, 'MissingTopic');
    const voipTopic = topic.endsWith('.voip');
    if (!this.bundles.has(voipTopic ? topic.slice(0, -5) : topic)) return void reply(400, 'TopicDisallowed');
    const pushType = h['apns-push-type'] ?? 'alert';
    if (!PUSH_TYPES.has(pushType)) return void reply(400, 'InvalidPushType');
    if ((pushType === 'voip') !== voipTopic) return void reply(400, 'InvalidPushType');
    const priority = h['apns-priority'] ?? '10';
    if (!['1', '5', '10'].includes(priority)) return void reply(400, 'BadPriority');
    if (h['apns-expiration'] !== undefined && !/^\d+$/.test(h['apns-expiration'])) return void reply(400, 'BadExpirationDate');
    if (h['apns-collapse-id'] !== undefined && Buffer.byteLength(h['apns-collapse-id']) > 64) return void reply(400, 'BadCollapseId');
    if (h['apns-id'] !== undefined && !UUID.test(h['apns-id'])) return void reply(400, 'BadMessageId');
    if (!/^[0-9a-fA-F]+$/.test(token)) return void reply(400, 'BadDeviceToken');

    // the payload (§1.4)
    const raw = Buffer.concat(chunks);
    if (raw.length === 0) return void reply(400, 'PayloadEmpty');
    if (raw.length > (pushType === 'voip' ? 5120 : 4096)) return void reply(413, 'PayloadTooLarge');
    let payload: ApnsReceived['payload'];
    try {
      payload = JSON.parse(raw.toString()) as ApnsReceived['payload'];
    } catch {
      // the reference names no reason for malformed JSON; this one is the emulator's
      return void reply(400, 'BadPayload');
    }
    const aps = payload?.aps;
    if (typeof aps !== 'object' || aps === null || Array.isArray(aps)) return void reply(400, 'BadPayload');
    const shows = aps.alert !== undefined || aps.badge !== undefined || aps.sound !== undefined;
    // background: content-available alone, at priority 5 (§1.3, §1.4); alert: something to show
    if (pushType === 'background' && (aps['content-available'] !== 1 || shows)) return void reply(400, 'InvalidPushType');
    if (pushType === 'background' && priority === '10') return void reply(400, 'BadPriority');
    if (pushType === 'alert' && !shows) return void reply(400, 'InvalidPushType');
    for (const [k, v] of Object.entries(payload)) if (k !== 'aps' && typeof v === 'object' && v !== null) return void reply(400, 'BadPayload');
    // the aps keys' types (§1.4): the reference names no reason for a wrong one; BadPayload is the emulator's
    if (aps['thread-id'] !== undefined && (typeof aps['thread-id'] !== 'string' || !aps['thread-id'])) return void reply(400, 'BadPayload');
    if (aps.badge !== undefined && !(Number.isInteger(aps.badge) && (aps.badge as number) >= 0)) return void reply(400, 'BadPayload');
    if (aps['interruption-level'] !== undefined && !INTERRUPTION_LEVELS.has(aps['interruption-level'] as string)) return void reply(400, 'BadPayload');

    // the device (§1.6): a token of the other environment is BadDeviceToken
    if (environmentOf(token) !== session.environment) return void reply(400, 'BadDeviceToken');
    const gone = this.dead.get(token);
    if (gone !== undefined) return void reply(410, 'Unregistered', {}, { reason: 'Unregistered', timestamp: gone });
    const apnsId = reply(200);
    if (apnsId) this.received.push({ token, headers: h, payload, jwt, apnsId, environment: session.environment });
  }

  /**
   * One developer account and key per connection (Apple, "Establishing a token-based connection to
   * APNs"; Apple Developer Forums 702056, 72999): the first token taken binds the connection; a
   * token of another team is InvalidProviderToken, of another key of the same team
   * TooManyProviderTokenUpdates, and from then on the connection refuses every request so.
   */
  private bind(session: SessionState, jwt: ApnsReceived['jwt']): { status: number; reason: string } | undefined {
    if (!session.spoilt) {
      const bound = (session.boundTo ??= { teamId: jwt.iss, keyId: jwt.kid });
      if (bound.teamId === jwt.iss && bound.keyId === jwt.kid) return undefined;
      session.spoilt = bound.teamId === jwt.iss ? { status: 429, reason: 'TooManyProviderTokenUpdates' } : { status: 403, reason: 'InvalidProviderToken' };
    }
    this.mixedKeyRefusals++;
    return session.spoilt;
  }

  /** The claims of a valid provider token, else the 403 reason. */
  private verify(raw: string): ApnsReceived['jwt'] | string {
    const parts = raw.split('.');
    if (parts.length !== 3) return 'InvalidProviderToken';
    let header: { alg?: unknown; kid?: unknown };
    let claims: { iss?: unknown; iat?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as typeof claims;
    } catch {
      return 'InvalidProviderToken';
    }
    const key = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
    if (header.alg !== 'ES256' || !key || claims.iss !== key.teamId || typeof claims.iat !== 'number') return 'InvalidProviderToken';
    // a token is checked once and then known, as a provider token is reused for an hour (§1.2)
    if (!this.verified.has(raw)) {
      const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2]!, 'base64url'));
      if (!ok) return 'InvalidProviderToken';
      if (this.verified.size > 10_000) this.verified.clear();
      this.verified.add(raw);
    }
    const now = Date.now() / 1000;
    if (claims.iat > now + 60) return 'InvalidProviderToken';
    if (now - claims.iat > TOKEN_LIFETIME_S || this.expired.has(raw)) return 'ExpiredProviderToken';
    return { kid: header.kid as string, iss: claims.iss, iat: claims.iat, raw };
  }
}

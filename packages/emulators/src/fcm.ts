import crypto from 'node:crypto';
import { LoopbackEmulator, type EmulatorRequest, type EmulatorResponse } from './loopback.js';

/**
 * Firebase Cloud Messaging HTTP v1 on loopback: the OAuth2 token endpoint of the service-account
 * JWT bearer flow, and `POST /v1/projects/{id}/messages:send`. It checks what Google checks — the
 * RS256 assertion against the service account's public key, its iss, scope, aud and one-hour exp,
 * the bearer token, one target per message, string-only data without reserved keys, the android
 * priority, notification_priority and notification_count, and the 4,096-byte payload — keeps
 * each accepted message, and answers errors in FCM's `error.details[].errorCode` shape.
 * Served over TLS with HTTP/2 (and HTTP/1.1), as Google serves it; trust `caCertificate`.
 * Written from the reference (vendor-protocols.md §2) on node:crypto; it shares no code with Herald.
 */
export interface FcmReceived {
  projectId: string;
  message: Record<string, unknown> & { token?: string };
}

export interface FcmFailure {
  status: number;
  errorCode: string;
  retryAfter?: number;
  times?: number;
}

/** Data keys FCM reserves (§2.3). */
const RESERVED_KEY = /^(from|message_type|google.*|gcm.*)$/i;
const NOTIFICATION_PRIORITIES = new Set(['PRIORITY_UNSPECIFIED', 'PRIORITY_MIN', 'PRIORITY_LOW', 'PRIORITY_DEFAULT', 'PRIORITY_HIGH', 'PRIORITY_MAX']);
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export class FcmEmulator extends LoopbackEmulator {
  readonly received: FcmReceived[] = [];
  /** HTTP versions of the requests received, e.g. to see that sends were multiplexed over HTTP/2. */
  readonly httpVersions = new Set<string>();
  readonly tokenRequests: number[] = [];
  private accounts = new Map<string, crypto.KeyObject>();
  private accessTokens = new Map<string, number>();
  private dead = new Set<string>();
  private failures = new Map<string, FcmFailure>();

  constructor() {
    super({ tls: true });
  }

  /** A service account as the Firebase console downloads it, pointing its token_uri here. */
  serviceAccount(projectId: string): Record<string, string> {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const email = `herald@${projectId}.iam.gserviceaccount.com`;
    this.accounts.set(email, publicKey);
    return {
      type: 'service_account',
      project_id: projectId,
      private_key_id: crypto.randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      token_uri: `${this.base}/token`,
    };
  }

  /** The app was uninstalled: this token answers UNREGISTERED from now on. */
  unregister(token: string): void {
    this.dead.add(token);
  }

  failNext(token: string, f: FcmFailure): void {
    this.failures.set(token, { times: 1, ...f });
  }

  /** Makes every access token handed out so far invalid (as if it expired). */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  private json(res: EmulatorResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private error(res: EmulatorResponse, status: number, canonical: string, message: string, errorCode?: string, headers: Record<string, string> = {}): void {
    const details = errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [];
    this.json(res, status, { error: { code: status, message, status: canonical, details } }, headers);
  }

  protected async handle(req: EmulatorRequest, res: EmulatorResponse, raw: Buffer): Promise<void> {
    const body = raw.toString();
    this.httpVersions.add(req.httpVersion);
    if (req.method === 'POST' && req.url === '/token') return this.token(res, body);
    const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return this.error(res, 404, 'NOT_FOUND', 'no such method');
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const exp = bearer ? this.accessTokens.get(bearer) : undefined;
    if (!exp || exp < Date.now()) return this.error(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    let parsed: { message?: Record<string, unknown> & { token?: string; topic?: string; condition?: string; data?: Record<string, unknown> } };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return this.error(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const msg = parsed.message;
    if (!msg) return this.error(res, 400, 'INVALID_ARGUMENT', 'message is required', 'INVALID_ARGUMENT');
    const targets = ['token', 'topic', 'condition'].filter((k) => msg[k] !== undefined);
    if (targets.length !== 1) return this.error(res, 400, 'INVALID_ARGUMENT', 'exactly one of token, topic, condition', 'INVALID_ARGUMENT');
    if (msg.data && Object.values(msg.data).some((v) => typeof v !== 'string')) return this.error(res, 400, 'INVALID_ARGUMENT', 'data values must be strings', 'INVALID_ARGUMENT');
    if (msg.data && Object.keys(msg.data).some((k) => RESERVED_KEY.test(k))) return this.error(res, 400, 'INVALID_ARGUMENT', 'reserved data key', 'INVALID_ARGUMENT');
    const android = this.androidError(msg.android);
    if (android) return this.error(res, 400, 'INVALID_ARGUMENT', android, 'INVALID_ARGUMENT');
    if (Buffer.byteLength(JSON.stringify(msg)) > 4096) return this.error(res, 400, 'INVALID_ARGUMENT', 'Message is too big', 'INVALID_ARGUMENT');
    const token = String(msg.token ?? '');
    const f = this.failures.get(token);
    if (f) {
      if (--f.times! <= 0) this.failures.delete(token);
      return this.error(res, f.status, f.errorCode === 'UNAVAILABLE' ? 'UNAVAILABLE' : 'RESOURCE_EXHAUSTED', 'injected', f.errorCode, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
    }
    if (this.dead.has(token)) return this.error(res, 404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    this.received.push({ projectId: m[1]!, message: msg });
    this.json(res, 200, { name: `projects/${m[1]}/messages/${crypto.randomBytes(8).toString('hex')}` });
  }

  /** `android` as §2.3 lists it: priority NORMAL|HIGH, notification_priority PRIORITY_MIN…MAX, notification_count a count. */
  private androidError(a: unknown): string | undefined {
    if (a === undefined) return undefined;
    const o = a as { priority?: unknown; notification?: { notification_priority?: unknown; notification_count?: unknown } };
    if (o.priority !== undefined && o.priority !== 'NORMAL' && o.priority !== 'HIGH') return 'android.priority';
    const n = o.notification;
    if (n?.notification_priority !== undefined && !NOTIFICATION_PRIORITIES.has(String(n.notification_priority))) return 'android.notification.notification_priority';
    if (n?.notification_count !== undefined && !(Number.isInteger(n.notification_count) && (n.notification_count as number) >= 0)) return 'android.notification.notification_count';
    return undefined;
  }

  /** RFC 7523 JWT bearer grant, as Google's token endpoint takes it. */
  private token(res: EmulatorResponse, body: string): void {
    this.tokenRequests.push(Date.now());
    const form = new URLSearchParams(body);
    const bad = (why: string) => this.json(res, 400, { error: 'invalid_grant', error_description: why });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return bad('grant_type');
    const [h, p, s] = (form.get('assertion') ?? '').split('.');
    if (!h || !p || !s) return bad('assertion');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss?: string; scope?: string; aud?: string; iat?: number; exp?: number };
    const key = claims.iss ? this.accounts.get(claims.iss) : undefined;
    if (header.alg !== 'RS256' || !key) return bad('unknown service account or alg');
    if (!crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return bad('Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    if (!claims.scope?.split(' ').includes(SCOPE)) return bad('scope');
    if (claims.aud !== `${this.base}/token` && claims.aud !== 'https://oauth2.googleapis.com/token') return bad('aud');
    if (!claims.iat || !claims.exp || claims.exp - claims.iat > 3600 || claims.exp < now || claims.iat > now + 60) return bad('Invalid JWT: iat/exp');
    const accessToken = `ya29.${crypto.randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(accessToken, Date.now() + 3600_000);
    this.json(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
  }
}

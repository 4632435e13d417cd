import crypto from 'node:crypto';
import { LoopbackEmulator, type EmulatorRequest, type EmulatorResponse } from './loopback.js';

/**
 * Firebase Cloud Messaging HTTP v1 on loopback: the OAuth2 token endpoint of the service-account
 * JWT bearer flow, and `POST /v1/projects/{id}/messages:send`. It checks what Google checks — the
 * RS256 assertion against the service account's public key, its iss, scope, aud and one-hour exp,
 * the bearer token and that its service account belongs to the project in the path, one target
 * per message, string-only data without reserved keys, the android priority, ttl (0 to 4 weeks),
 * notification_priority and notification_count, the 4,096-byte payload, and the registration
 * token: its form, and that it belongs to the sender's project (each token belongs to one) —
 * keeps each accepted message (a `validate_only` one is checked and not kept), and answers errors
 * in FCM's `error.details[].errorCode` shape.
 * Served over TLS with HTTP/2 (and HTTP/1.1), as Google serves it; trust `caCertificate`.
 * Written from the reference (vendor-protocols.md §2) on node:crypto; it shares no code with Herald.
 */
export interface FcmReceived {
  projectId: string;
  message: Record<string, unknown> & { token?: string };
}

export interface FcmFailure {
  status: number;
  /** The FcmError detail's errorCode; '' for an answer without one. */
  errorCode: string;
  retryAfter?: number;
  times?: number;
}

/** Data keys FCM reserves (§2.3). */
const RESERVED_KEY = /^(from|message_type|google.*|gcm.*)$/i;
const NOTIFICATION_PRIORITIES = new Set(['PRIORITY_UNSPECIFIED', 'PRIORITY_MIN', 'PRIORITY_LOW', 'PRIORITY_DEFAULT', 'PRIORITY_HIGH', 'PRIORITY_MAX']);
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** android.ttl: a protobuf Duration in seconds, at most 2,419,200 (4 weeks; Firebase, "Setting the lifespan of a message"). */
const DURATION = /^\d+(\.\d{1,9})?s$/;
const MAX_TTL_S = 2_419_200;
/** What a registration token is made of: base64url text and ':' (an instance id, then the token). */
const TOKEN_FORM = /^[A-Za-z0-9_:-]{1,4096}$/;
/** Topic names (Firebase, "Topic messaging"). */
const TOPIC_FORM = /^[A-Za-z0-9_.~%-]+$/;
/** The canonical status Google's APIs give each HTTP status. */
const CANONICAL: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

interface Account {
  publicKey: crypto.KeyObject;
  projectId: string;
  disabled: boolean;
}

export class FcmEmulator extends LoopbackEmulator {
  readonly received: FcmReceived[] = [];
  /** HTTP versions of the requests received, e.g. to see that sends were multiplexed over HTTP/2. */
  readonly httpVersions = new Set<string>();
  readonly tokenRequests: number[] = [];
  /** `validate_only` messages checked and not sent. */
  validated = 0;
  private accounts = new Map<string, Account>();
  private accessTokens = new Map<string, { until: number; email: string }>();
  private tokenProjects = new Map<string, string>();
  private firstProject: string | undefined;
  private dead = new Set<string>();
  private failures = new Map<string, FcmFailure>();

  constructor() {
    super({ tls: true });
  }

  /** A service account of a project as the Firebase console downloads it, pointing its token_uri here. */
  serviceAccount(projectId: string): Record<string, string> {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const email = `herald-${crypto.randomBytes(3).toString('hex')}@${projectId}.iam.gserviceaccount.com`;
    this.accounts.set(email, { publicKey, projectId, disabled: false });
    this.firstProject ??= projectId;
    return {
      type: 'service_account',
      project_id: projectId,
      private_key_id: crypto.randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      token_uri: `${this.base}/token`,
    };
  }

  /**
   * A registration token an app of this project gets (default: the first project a service account
   * was made for). A token the emulator did not hand out belongs to that first project too.
   */
  deviceToken(projectId = this.firstProject ?? 'default'): string {
    const token = `${crypto.randomBytes(16).toString('base64url')}:APA91b${crypto.randomBytes(100).toString('base64url')}`;
    this.tokenProjects.set(token, projectId);
    return token;
  }

  /** The service account was disabled or deleted: no more access tokens, and those handed out stop working. */
  disableServiceAccount(email: string): void {
    const a = this.accounts.get(email);
    if (a) a.disabled = true;
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

  private error(res: EmulatorResponse, status: number, canonical: string, message: string, errorCode?: string, headers: Record<string, string> = {}, field?: string): void {
    const details: Record<string, unknown>[] = errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [];
    if (field) details.push({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description: message }] });
    this.json(res, status, { error: { code: status, message, status: canonical, details } }, headers);
  }

  protected async handle(req: EmulatorRequest, res: EmulatorResponse, raw: Buffer): Promise<void> {
    const body = raw.toString();
    this.httpVersions.add(req.httpVersion);
    if (req.method === 'POST' && req.url === '/token') return this.token(res, body);
    const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return this.error(res, 404, 'NOT_FOUND', 'no such method');
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const grant = bearer ? this.accessTokens.get(bearer) : undefined;
    const account = grant ? this.accounts.get(grant.email) : undefined;
    if (!grant || grant.until < Date.now() || !account || account.disabled) return this.error(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const projectId = decodeURIComponent(m[1]!);
    // a service account may send for its own project only
    if (account.projectId !== projectId) return this.error(res, 403, 'PERMISSION_DENIED', `Permission to send messages denied on project ${projectId} (or it may not exist).`);
    let parsed: { validate_only?: unknown; message?: Record<string, unknown> & { token?: string; topic?: string; condition?: string; data?: Record<string, unknown> } };
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
    if (android) return this.error(res, 400, 'INVALID_ARGUMENT', android.message, 'INVALID_ARGUMENT', {}, android.field);
    if (Buffer.byteLength(JSON.stringify(msg)) > 4096) return this.error(res, 400, 'INVALID_ARGUMENT', 'Message is too big', 'INVALID_ARGUMENT');
    if (msg.topic !== undefined && !TOPIC_FORM.test(String(msg.topic))) return this.error(res, 400, 'INVALID_ARGUMENT', 'Invalid topic name', 'INVALID_ARGUMENT', {}, 'message.topic');
    const token = msg.token === undefined ? undefined : String(msg.token);
    if (token !== undefined) {
      // Firebase, "Best practices for FCM registration token management": INVALID_ARGUMENT for a token that is not one
      if (!TOKEN_FORM.test(token)) return this.error(res, 400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token', 'INVALID_ARGUMENT');
      const f = this.failures.get(token);
      if (f) {
        if (--f.times! <= 0) this.failures.delete(token);
        return this.error(res, f.status, CANONICAL[f.status] ?? 'UNKNOWN', 'injected', f.errorCode, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
      }
      // a token belongs to the project whose app got it: another project's sender is refused
      if ((this.tokenProjects.get(token) ?? this.firstProject) !== projectId) return this.error(res, 403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
      if (this.dead.has(token)) return this.error(res, 404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    }
    if (parsed.validate_only === true) {
      // checked, not sent (Firebase, REST reference "projects.messages.send")
      this.validated++;
      return this.json(res, 200, { name: `projects/${projectId}/messages/fake_message_id` });
    }
    this.received.push({ projectId, message: msg });
    this.json(res, 200, { name: `projects/${projectId}/messages/${crypto.randomBytes(8).toString('hex')}` });
  }

  /**
   * `android` as §2.3 lists it: priority NORMAL|HIGH, ttl a duration of 0 to 2,419,200 s,
   * notification_priority PRIORITY_MIN…MAX, notification_count a count.
   */
  private androidError(a: unknown): { field: string; message: string } | undefined {
    if (a === undefined) return undefined;
    const o = a as { priority?: unknown; ttl?: unknown; notification?: { notification_priority?: unknown; notification_count?: unknown } };
    const bad = (field: string, message = `Invalid value at '${field}'`) => ({ field: `message.${field}`, message });
    if (o.priority !== undefined && o.priority !== 'NORMAL' && o.priority !== 'HIGH') return bad('android.priority');
    if (o.ttl !== undefined && !(typeof o.ttl === 'string' && DURATION.test(o.ttl))) return bad('android.ttl');
    if (typeof o.ttl === 'string' && parseFloat(o.ttl) > MAX_TTL_S) return bad('android.ttl', `The TTL ${o.ttl} is over the maximum of ${MAX_TTL_S}s (4 weeks)`);
    const n = o.notification;
    if (n?.notification_priority !== undefined && !NOTIFICATION_PRIORITIES.has(String(n.notification_priority))) return bad('android.notification.notification_priority');
    if (n?.notification_count !== undefined && !(Number.isInteger(n.notification_count) && (n.notification_count as number) >= 0)) return bad('android.notification.notification_count');
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
    const account = claims.iss ? this.accounts.get(claims.iss) : undefined;
    if (header.alg !== 'RS256' || !account || account.disabled) return bad('Invalid grant: account not found');
    if (!crypto.verify('sha256', Buffer.from(`${h}.${p}`), account.publicKey, Buffer.from(s, 'base64url'))) return bad('Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    if (!claims.scope?.split(' ').includes(SCOPE)) return bad('scope');
    if (claims.aud !== `${this.base}/token` && claims.aud !== 'https://oauth2.googleapis.com/token') return bad('aud');
    if (!claims.iat || !claims.exp || claims.exp - claims.iat > 3600 || claims.exp < now || claims.iat > now + 60) return bad('Invalid JWT: iat/exp');
    const accessToken = `ya29.${crypto.randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(accessToken, { until: Date.now() + 3600_000, email: claims.iss! });
    this.json(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
  }
}

import crypto from 'node:crypto';
import type http from 'node:http';
import { LoopbackEmulator } from './loopback.js';
import { postReceipts } from './huawei.js';

/**
 * HarmonyOS Push Kit (NEXT/5+) on loopback: `POST /v3/{projectId}/messages:send` with the `push-type`
 * header, and the recall path `POST /v1/{clientId}/messages:revoke`. Auth is the service-account JWT
 * itself: PS256 signature against the public key of the account `app()` made, `kid`, `iss` (the
 * sub-account), `aud`, `exp` (not past, at most a day after `iat`). Checks the AlertPayload of
 * push-type 0 (title, body, a mandatory category from the list, badge, soundDuration, clickAction:
 * push-scenariozed-api-request-param), `pushOptions` (ttl ≤ 15 days, biTag ≤ 64 bytes), 1–1,000
 * tokens and 4,096 bytes without them; answers `{code,msg,requestId}` with the v3 codes of
 * push-scenariozed-api-response: a refused token is named in `msg` under its reason,
 * `{"illegalTokens": {"<reason>": [...]}, "success", "failure"}`, in 80100000 when others were
 * taken and 80300007 when none was; 80200001, 80200005, 80300036, … Tokens are opaque to Push Kit;
 * this emulator takes letters, digits and `-_.:+/=` (base64 and the like) and refuses anything else
 * as tokenFormatError, its own stand-in for the format HarmonyOS does not publish.
 * `deliverReceipts` posts version-2 receipts `{statuses:[{token, pushType, appPackageName, biTag,
 * requestId, deliveryStatus{result, timestamp}}]}`, at most 100 a post, as AppGallery Connect would.
 * Written from vendor-protocols.md §4 and Huawei's receipt API page; it shares no code with Herald.
 */
export interface HarmonyReceived {
  projectId: string;
  pushType: number;
  tokens: string[];
  payload: Record<string, unknown>;
  pushOptions: Record<string, unknown>;
  requestId: string;
  /** The bearer JWT's header and claims, as checked. */
  jwt: { header: Record<string, unknown>; claims: Record<string, unknown> };
}

export interface HarmonyRevoke {
  clientId: string;
  pushType: number;
  notifyId: number;
  tokens: string[];
}

export interface HarmonyFailure {
  status: number;
  code: string;
  msg?: string;
  retryAfter?: number;
}

const AUD = 'https://oauth-login.cloud.huawei.com/oauth2/v3/token';
const PUSH_TYPES = new Set([0, 1, 2, 6, 7, 10]);
/** A token of any other characters is refused as tokenFormatError (this emulator's rule, above). */
const TOKEN_FORMAT = /^[A-Za-z0-9._:+/=-]{1,512}$/;
const CATEGORIES = new Set(['IM', 'VOIP', 'MISS_CALL', 'SUBSCRIPTION', 'TRAVEL', 'HEALTH', 'WORK', 'ACCOUNT', 'EXPRESS', 'FINANCE', 'DEVICE_REMINDER', 'MAIL', 'PLAY_VOICE', 'MARKETING']);

interface Account {
  publicKey: crypto.KeyObject;
  subAccount: string;
  projectId: string;
  clientId: string;
  packageName: string;
}

export class HarmonyEmulator extends LoopbackEmulator {
  readonly received: HarmonyReceived[] = [];
  readonly revoked: HarmonyRevoke[] = [];
  /** Every bearer JWT presented, in order (a renewed one shows as a new entry). */
  readonly jwtsSeen: string[] = [];
  private accounts = new Map<string, Account>();
  /** Tokens refused, each with its documented reason (80100000 / 80300007). */
  private refusedTokens = new Map<string, string>();
  /** Projects whose app is penalised: every token refused as disableSendHuaweiMsgBecauseOfPenalty. */
  private penalised = new Set<string>();
  private failures: HarmonyFailure[] = [];

  /**
   * A project with one app in AppGallery Connect and a service-account key for it: the key file's
   * fields (`project_id`, `key_id`, `private_key`, `sub_account`, `token_uri`) and the app's client id.
   */
  app(packageName = 'com.example.harmony'): { projectId: string; clientId: string; serviceAccount: Record<string, string> } {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const projectId = String(100_000_000 + crypto.randomInt(900_000_000));
    const clientId = String(100_000_000 + crypto.randomInt(900_000_000));
    const keyId = crypto.randomBytes(16).toString('hex');
    const subAccount = String(crypto.randomInt(100_000_000, 999_999_999));
    this.accounts.set(keyId, { publicKey, subAccount, projectId, clientId, packageName });
    return {
      projectId,
      clientId,
      serviceAccount: {
        project_id: projectId,
        key_id: keyId,
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        sub_account: subAccount,
        token_uri: AUD,
      },
    };
  }

  /** This token is refused as malformed (tokenFormatError) from now on. */
  invalidate(token: string): void {
    this.refuseToken(token, 'tokenFormatError');
  }

  /**
   * This token is refused from now on under a reason of push-scenariozed-api-response: noRight (its
   * app is in another project), tokenPlatformNotSupport, countryNotSupport, …
   */
  refuseToken(token: string, reason: string): void {
    this.refusedTokens.set(token, reason);
  }

  /** The project's app is penalised: every token is refused (80300007, disableSendHuaweiMsgBecauseOfPenalty) until `pardon`. */
  penalise(projectId: string): void {
    this.penalised.add(projectId);
  }

  pardon(projectId: string): void {
    this.penalised.delete(projectId);
  }

  /** The next send or revoke is answered with this HTTP status and code. */
  failNext(f: HarmonyFailure): void {
    this.failures.push(f);
  }

  /**
   * Posts receipts for every token received so far to `url`, as Push Kit does for the receipt address
   * configured in AppGallery Connect: result 0 (delivered) unless `results` names another for a token.
   */
  async deliverReceipts(url: string, results: Record<string, number> = {}): Promise<number[]> {
    const statuses = this.received.flatMap((r) =>
      r.tokens.map((token) => ({
        token,
        pushType: r.pushType,
        appPackageName: this.accountOf(r.projectId)?.packageName ?? '',
        biTag: String(r.pushOptions.biTag ?? ''),
        requestId: r.requestId,
        deliveryStatus: { result: results[token] ?? 0, timestamp: Date.now() },
      })),
    );
    return postReceipts(url, statuses);
  }

  private accountOf(projectId: string): Account | undefined {
    return [...this.accounts.values()].find((a) => a.projectId === projectId);
  }

  private reply(res: http.ServerResponse, status: number, code: string, msg: string, headers: Record<string, string> = {}): string {
    const requestId = crypto.randomBytes(8).toString('hex');
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(JSON.stringify({ code, msg, requestId }));
    return requestId;
  }

  /** The bearer JWT checked as Push Kit checks it; the account, or the code and message to refuse with. */
  private verify(authorization: string | undefined): { account: Account; header: Record<string, unknown>; claims: Record<string, unknown> } | { code: string; msg: string } {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const parts = token?.split('.');
    if (!token || parts?.length !== 3) return { code: '80200001', msg: 'missing or unparsable JWT' };
    this.jwtsSeen.push(token);
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
    } catch {
      return { code: '80200001', msg: 'unparsable JWT' };
    }
    if (header.alg !== 'PS256' || header.typ !== 'JWT') return { code: '80200001', msg: 'JWT must be PS256' };
    const account = typeof header.kid === 'string' ? this.accounts.get(header.kid) : undefined;
    if (!account) return { code: '80200001', msg: 'unknown kid' };
    const signed = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: account.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(parts[2]!, 'base64url'));
    if (!signed) return { code: '80200001', msg: 'bad JWT signature' };
    if (claims.iss !== account.subAccount || claims.aud !== AUD) return { code: '80200001', msg: 'bad iss or aud' };
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return { code: '80200001', msg: 'iat and exp required' };
    if (claims.exp - claims.iat > 86_400) return { code: '80300036', msg: 'JWT validity longer than one day' };
    if (claims.exp <= now) return { code: '80200005', msg: 'JWT expired' };
    return { account, header, claims };
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const send = /^\/v3\/([^/]+)\/messages:send$/.exec(req.url ?? '');
    const revoke = /^\/v1\/([^/]+)\/messages:revoke$/.exec(req.url ?? '');
    if (req.method !== 'POST' || (!send && !revoke)) return void this.reply(res, 404, '80100001', 'bad URI');
    const auth = this.verify(req.headers.authorization);
    if ('code' in auth) return void this.reply(res, auth.code === '80300036' ? 400 : 401, auth.code, auth.msg);
    if (send ? auth.account.projectId !== send[1] : auth.account.clientId !== revoke![1]) return void this.reply(res, 401, '80200001', 'JWT of another project or app');
    const pushType = Number(req.headers['push-type']);
    if (req.headers['push-type'] === undefined || !PUSH_TYPES.has(pushType)) return void this.reply(res, 400, '80100001', 'push-type header missing or unknown');
    const injected = this.failures.shift();
    if (injected) return void this.reply(res, injected.status, injected.code, injected.msg ?? 'injected', injected.retryAfter !== undefined ? { 'retry-after': String(injected.retryAfter) } : {});
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw.toString()) as Record<string, any>;
    } catch {
      return void this.reply(res, 400, '80100003', 'Illegal payload');
    }
    if (revoke) return this.revoke(res, revoke[1]!, pushType, body);
    const tokens = body.target?.token;
    const bad = this.tokensError(tokens);
    if (bad) return void this.reply(res, 400, bad[0], bad[1]);
    if (Buffer.byteLength(JSON.stringify({ ...body, target: { ...body.target, token: [] } })) > 4096) return void this.reply(res, 400, '80300008', 'The message body size exceeds the default value');
    const options = (body.pushOptions ?? {}) as Record<string, any>;
    if (options.ttl !== undefined && (!Number.isInteger(options.ttl) || options.ttl < 0 || options.ttl > 1_296_000)) return void this.reply(res, 400, '80100001', 'pushOptions.ttl');
    if (options.biTag !== undefined && (typeof options.biTag !== 'string' || Buffer.byteLength(options.biTag) > 64)) return void this.reply(res, 400, '80100001', 'pushOptions.biTag');
    if (pushType === 0) {
      const err = this.alertError(body.payload?.notification);
      // the reference's own example of a refused field: 80100003 "Illegal payload, …"
      if (err) return void this.reply(res, 400, '80100003', `Illegal payload, ${err}`);
    }
    const projectId = send![1]!;
    const reasons = new Map<string, string>();
    for (const t of tokens as string[]) {
      const reason = this.penalised.has(projectId) ? 'disableSendHuaweiMsgBecauseOfPenalty' : !TOKEN_FORMAT.test(t) ? 'tokenFormatError' : this.refusedTokens.get(t);
      if (reason) reasons.set(t, reason);
    }
    const ok = (tokens as string[]).filter((t) => !reasons.has(t));
    const byReason: Record<string, string[]> = {};
    for (const [t, reason] of reasons) (byReason[reason] ??= []).push(t);
    const named = JSON.stringify({ illegalTokens: byReason, success: ok.length, failure: reasons.size });
    if (ok.length === 0) return void this.reply(res, 400, '80300007', named);
    const requestId = reasons.size > 0 ? this.reply(res, 200, '80100000', named) : this.reply(res, 200, '80000000', 'Success');
    this.received.push({ projectId, pushType, tokens: ok, payload: body.payload ?? {}, pushOptions: options, requestId, jwt: { header: auth.header, claims: auth.claims } });
  }

  private tokensError(tokens: unknown): [string, string] | undefined {
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.some((t) => typeof t !== 'string' || !t)) return ['80100001', 'target.token must be an array of tokens'];
    if (tokens.length > 1000) return ['80300010', 'The number of tokens exceeds the limit'];
    return undefined;
  }

  /** AlertPayload.notification as §4.3 describes it; the reason it is refused, if it is. */
  private alertError(n: Record<string, any> | undefined): string | undefined {
    if (!n || typeof n !== 'object') return 'payload.notification is required';
    if (typeof n.title !== 'string' || !n.title || typeof n.body !== 'string' || !n.body) return 'notification title and body are required';
    if (n.category === undefined) return 'notification.category is mandatory';
    if (!CATEGORIES.has(n.category)) return 'notification.category';
    if (n.notifyId !== undefined && (!Number.isInteger(n.notifyId) || n.notifyId < 0 || n.notifyId > 0x7fffffff)) return 'notification.notifyId';
    if (n.soundDuration !== undefined && (!Number.isInteger(n.soundDuration) || n.soundDuration < 1 || n.soundDuration > 60)) return 'notification.soundDuration';
    if (n.badge !== undefined) {
      const { addNum, setNum } = n.badge as { addNum?: number; setNum?: number };
      if ((addNum !== undefined && !(Number.isInteger(addNum) && addNum >= 1 && addNum <= 99)) || (setNum !== undefined && !(Number.isInteger(setNum) && setNum >= 0 && setNum <= 99))) return 'notification.badge';
    }
    if (n.clickAction !== undefined && ![0, 1, 3, 5].includes(n.clickAction?.actionType)) return 'notification.clickAction.actionType';
    if (n.clickAction?.data !== undefined && (typeof n.clickAction.data !== 'object' || n.clickAction.data === null || Array.isArray(n.clickAction.data))) return 'notification.clickAction.data';
    return undefined;
  }

  /** §4.4: push-type 0 or 2, `{notifyId, token[≤1000]}`. */
  private revoke(res: http.ServerResponse, clientId: string, pushType: number, body: Record<string, any>): void {
    if (pushType !== 0 && pushType !== 2) return void this.reply(res, 400, '80100001', 'revoke takes push-type 0 or 2');
    if (!Number.isInteger(body.notifyId)) return void this.reply(res, 400, '80100001', 'notifyId is required');
    const bad = this.tokensError(body.token);
    if (bad) return void this.reply(res, 400, bad[0], bad[1]);
    this.revoked.push({ clientId, pushType, notifyId: body.notifyId as number, tokens: body.token as string[] });
    this.reply(res, 200, '80000000', 'Success');
  }
}

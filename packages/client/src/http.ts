import { HeraldError } from './errors.js';
import type { ConversationType, DeviceInfo, DoNotDisturb, MutedConversation } from './types.js';

/** The device HTTP API (protocol §2). One method per call; no retry policy here. */

export interface DeviceAuth {
  registrationId: string;
  credential: string;
}

export interface RegisterBody extends Partial<DeviceInfo> {
  installId: string;
  platform: DeviceInfo['platform'];
  sdkVersion?: string;
  registrationId?: string;
}

export interface RegisterReply {
  registrationId: string;
  credential: string;
  heartbeatSeconds: number;
  gatewayPath: string;
}

export interface DeviceApiOptions {
  server: string;
  sdkAppId: number;
  appKey: string;
  fetch: typeof fetch;
  /** A request that hangs would stall connect() for good. Default 20 s. */
  timeoutMs?: number;
}

export const DEFAULT_GATEWAY_PATH = '/gateway/v1';
const DEFAULT_HEARTBEAT_SECONDS = 30;

export class DeviceApi {
  private readonly base: string;

  constructor(private readonly o: DeviceApiOptions) {
    this.base = trimSlash(o.server);
  }

  async register(body: RegisterBody): Promise<RegisterReply> {
    const r = await this.call('POST', '/register', body);
    if (!isObject(r) || typeof r.registrationId !== 'string' || typeof r.credential !== 'string') {
      throw new HeraldError('invalid_response', 'register reply lacks registrationId or credential', 200);
    }
    return {
      registrationId: r.registrationId,
      credential: r.credential,
      heartbeatSeconds:
        typeof r.heartbeatSeconds === 'number' && r.heartbeatSeconds > 0 ? r.heartbeatSeconds : DEFAULT_HEARTBEAT_SECONDS,
      gatewayPath: typeof r.gatewayPath === 'string' && r.gatewayPath ? r.gatewayPath : DEFAULT_GATEWAY_PATH,
    };
  }

  async update(auth: DeviceAuth, fields: Partial<DeviceInfo>): Promise<void> {
    await this.call('PATCH', '/device', fields, auth);
  }

  async bind(auth: DeviceAuth, userId: string): Promise<void> {
    await this.call('POST', '/bind', { userId }, auth);
  }

  async unbind(auth: DeviceAuth): Promise<void> {
    await this.call('POST', '/unbind', {}, auth);
  }

  async unregister(auth: DeviceAuth): Promise<void> {
    await this.call('DELETE', '/device', undefined, auth);
  }

  async click(auth: DeviceAuth, messageId: string): Promise<void> {
    await this.call('POST', '/click', { messageId }, auth);
  }

  async mute(auth: DeviceAuth, type: ConversationType, id: string, until: number | null): Promise<void> {
    await this.call('POST', '/mute', { type, id, until }, auth);
  }

  async unmute(auth: DeviceAuth, type: ConversationType, id: string): Promise<void> {
    await this.call('POST', '/unmute', { type, id }, auth);
  }

  async mutes(auth: DeviceAuth): Promise<MutedConversation[]> {
    const r = await this.call('GET', '/mutes', undefined, auth);
    if (!isObject(r) || !Array.isArray(r.conversations)) throw new HeraldError('invalid_response', 'mutes reply lacks conversations', 200);
    return r.conversations.filter(isMutedConversation);
  }

  async getDnd(auth: DeviceAuth): Promise<DoNotDisturb | null> {
    const r = await this.call('GET', '/dnd', undefined, auth);
    if (!isObject(r) || !('dnd' in r)) throw new HeraldError('invalid_response', 'dnd reply lacks dnd', 200);
    const d = r.dnd;
    if (!isObject(d) || typeof d.start !== 'string' || typeof d.end !== 'string') return null;
    return { start: d.start, end: d.end, timeZone: typeof d.timeZone === 'string' ? d.timeZone : null };
  }

  async setDnd(auth: DeviceAuth, dnd: DoNotDisturb): Promise<void> {
    await this.call('PUT', '/dnd', dnd, auth);
  }

  async clearDnd(auth: DeviceAuth): Promise<void> {
    await this.call('DELETE', '/dnd', undefined, auth);
  }

  async setBadge(auth: DeviceAuth, count: number): Promise<void> {
    await this.call('PUT', '/badge', { count }, auth);
  }

  private async call(method: string, path: string, body: unknown, auth?: DeviceAuth): Promise<unknown> {
    const headers: Record<string, string> = {
      'X-Herald-SdkAppId': String(this.o.sdkAppId),
      'X-Herald-AppKey': this.o.appKey,
    };
    if (auth) {
      headers['X-Herald-Registration-Id'] = auth.registrationId;
      headers.Authorization = `Bearer ${auth.credential}`;
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';

    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), this.o.timeoutMs ?? 20_000);
    let res: Response;
    let text: string;
    try {
      res = await this.o.fetch(`${this.base}/device/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
      });
      text = await res.text();
    } catch (err) {
      if (ctrl.signal.aborted) throw new HeraldError('timeout', `${method} ${path} timed out`, 0, { cause: err });
      throw new HeraldError('network_error', `${method} ${path} failed: ${errorMessage(err)}`, 0, { cause: err });
    } finally {
      clearTimeout(timer);
    }

    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = isObject(json) && isObject(json.error) ? json.error : undefined;
      const code = typeof e?.code === 'string' ? e.code : 'http_error';
      const message = typeof e?.message === 'string' ? e.message : `HTTP ${res.status} from ${method} ${path}`;
      throw new HeraldError(code, message, res.status);
    }
    return json;
  }
}

/** http→ws, https→wss; `gatewayPath` goes under the server's own path prefix, if any. */
export function gatewayUrl(server: string, gatewayPath: string): string {
  const url = new URL(trimSlash(server));
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  url.pathname = trimSlash(url.pathname) + (gatewayPath.startsWith('/') ? gatewayPath : `/${gatewayPath}`);
  url.search = '';
  url.hash = '';
  return url.toString();
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isMutedConversation(v: unknown): v is MutedConversation {
  return isObject(v) && (v.type === 'c2c' || v.type === 'group') && typeof v.id === 'string' && (v.until === null || typeof v.until === 'number');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

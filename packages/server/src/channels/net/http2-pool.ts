import crypto from 'node:crypto';
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http2';

/**
 * HTTP/2 client sessions to one vendor host, kept open and shared by every send, each carrying as
 * many concurrent streams as the server allows (APNs and FCM, vendor-protocols.md §1.1, §2.1).
 * Written on node:http2 because fetch in Node 20 speaks HTTP/1.1 only, one request per connection
 * at a time, and the APNs library that exists hides the hosts and the stream rules we must keep.
 */
export interface Http2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Http2PoolOptions {
  /** Connections to the host at most (default 4). */
  maxSessions?: number;
  /** A ceiling on streams per session, whatever the server advertises (default 1,000). */
  maxStreams?: number;
  /**
   * When set, a new session carries one stream until a reply passes this test (APNs with token auth
   * allows one stream until a request with a valid token went through, §1.1).
   */
  provenBy?: (r: Http2Reply) => boolean;
  /** A reply after which the session takes no more streams (APNs IdleTimeout). */
  retireAfter?: (r: Http2Reply) => boolean;
}

const REQUEST_TIMEOUT_MS = 15_000;
/** An unused session is closed after this long rather than held for a certificate no longer in use. */
const IDLE_MS = 10 * 60_000;

class Session {
  readonly h2: http2.ClientHttp2Session;
  active = 0;
  proven: boolean;
  gone = false;

  constructor(origin: string, ca: string | undefined, proven: boolean, onGone: (s: Session) => void) {
    this.proven = proven;
    this.h2 = http2.connect(origin, ca ? { ca } : {});
    const end = () => {
      if (this.gone) return;
      this.gone = true;
      onGone(this);
    };
    // GOAWAY (APNs sends one with a JSON reason, §1.1), a closed socket or an error: no new streams
    // here; streams in flight finish or fail, and the caller retries a failed one on a new session
    this.h2.on('goaway', end);
    this.h2.on('close', end);
    this.h2.on('error', end);
    this.h2.setTimeout(IDLE_MS, () => {
      if (this.active === 0) this.h2.close();
    });
    // an idle pooled session must not keep the process alive
    this.h2.unref();
  }

  capacity(maxStreams: number): number {
    if (!this.proven) return 1;
    return Math.min(this.h2.remoteSettings.maxConcurrentStreams ?? 100, maxStreams);
  }

  post(path: string, headers: Record<string, string>, body: string): Promise<Http2Reply> {
    return new Promise<Http2Reply>((resolve, reject) => {
      const req = this.h2.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json', ...headers });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.close(http2.constants.NGHTTP2_CANCEL));
      let head: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        head = h;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status: Number(head?.[':status'] ?? 0), headers: head ?? {}, body: Buffer.concat(chunks).toString() }));
      req.on('error', reject);
      // a stream reset or timed out before its end (a no-op once resolved)
      req.on('close', () => reject(new Error(`stream closed before the answer (code ${req.rstCode})`)));
      req.end(body);
    });
  }
}

/** Another session is opened (up to maxSessions) only when every open one is proven and full. */
export class Http2Pool {
  private sessions: Session[] = [];
  private waiting: (() => void)[] = [];
  private maxSessions: number;
  private maxStreams: number;

  constructor(
    private origin: string,
    private ca: string | undefined,
    private opts: Http2PoolOptions = {},
  ) {
    this.maxSessions = opts.maxSessions ?? 4;
    this.maxStreams = opts.maxStreams ?? 1000;
  }

  /** One POST; `headers` may set `content-type` (JSON by default). */
  async exchange(path: string, headers: Record<string, string>, body: string): Promise<Http2Reply> {
    const s = await this.acquire();
    try {
      const r = await s.post(path, headers, body);
      if (!s.proven && this.opts.provenBy?.(r)) {
        s.proven = true;
        this.wakeAll();
      }
      if (this.opts.retireAfter?.(r)) s.h2.close();
      return r;
    } finally {
      s.active--;
      this.waiting.shift()?.();
    }
  }

  private async acquire(): Promise<Session> {
    for (;;) {
      const free = this.sessions.find((s) => !s.gone && s.active < s.capacity(this.maxStreams));
      if (free) {
        free.active++;
        return free;
      }
      if (this.sessions.length < this.maxSessions && this.sessions.every((s) => s.proven)) {
        const s = new Session(this.origin, this.ca, !this.opts.provenBy, (g) => {
          this.sessions = this.sessions.filter((x) => x !== g);
          this.wakeAll();
        });
        this.sessions.push(s);
        s.active++;
        return s;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  private wakeAll(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
}

const pools = new Map<string, Http2Pool>();

/**
 * The shared pool for one kind of use (`kind` names its options) of one origin and CA. `owner`,
 * when given, keeps the connections to those who may share them: APNs binds a connection to the
 * first provider key it sees, so each key has its own.
 */
export function http2Pool(kind: string, url: string, ca: string | undefined, opts: Http2PoolOptions = {}, owner = ''): Http2Pool {
  const origin = new URL(url).origin;
  const key = `${kind} ${origin} ${ca ? crypto.createHash('sha256').update(ca).digest('hex') : ''} ${owner}`;
  let p = pools.get(key);
  if (!p) {
    p = new Http2Pool(origin, ca, opts);
    pools.set(key, p);
  }
  return p;
}

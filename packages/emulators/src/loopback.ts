import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { selfSignedCertificate } from './self-signed.js';

export type EmulatorRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type EmulatorResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * An emulator's HTTP server on 127.0.0.1: start, stop, and each request's whole body read first.
 * With `tls`, it serves HTTP/2 (and HTTP/1.1) over TLS with a certificate made at start, as
 * vendors whose clients multiplex over HTTP/2 do; `caCertificate` is what a client trusts.
 */
export abstract class LoopbackEmulator {
  /** `http://127.0.0.1:<port>` (or `https://`) once started. */
  base = '';
  /** With `tls`: the self-signed certificate the server presents, to trust as CA. */
  caCertificate = '';
  /** Requests received so far, counted on arrival (before they are answered). */
  arrivals = 0;
  /** Requests answered so far. */
  answers = 0;
  private server: http.Server | http2.Http2SecureServer | undefined;
  private sockets = new Set<Socket>();
  private gate: Promise<void> | null = null;
  private watchers = new Set<() => void>();

  constructor(private transport: { tls?: boolean } = {}) {}

  async start(port = 0): Promise<string> {
    const onRequest = (req: EmulatorRequest, res: EmulatorResponse) => void this.receive(req, res);
    let server: http.Server | http2.Http2SecureServer;
    if (this.transport.tls) {
      const { key, cert } = await selfSignedCertificate();
      this.caCertificate = cert;
      const secure = http2.createSecureServer({ key, cert, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } }, onRequest);
      // every connection, HTTP/2 or HTTP/1.1, so stop() can end them all
      secure.on('secureConnection', (sock) => {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
      });
      server = secure;
    } else {
      server = http.createServer(onRequest);
    }
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    this.base = `${this.transport.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    if (server instanceof http.Server) server.closeAllConnections();
    for (const sock of this.sockets) sock.destroy();
    await new Promise((r) => server.close(r));
  }

  /**
   * From now on requests wait, unanswered, until the returned function is called: a test can stop
   * the sender while its request is in flight.
   */
  hold(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = null;
      release();
    };
  }

  /** Resolves once `n` requests have arrived in all (see `arrivals`). */
  arrived(n: number): Promise<void> {
    return this.until(() => this.arrivals >= n);
  }

  /** Resolves once `n` requests have been answered in all (see `answers`). */
  answered(n: number): Promise<void> {
    return this.until(() => this.answers >= n);
  }

  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        this.watchers.delete(check);
        resolve();
      };
      this.watchers.add(check);
    });
  }

  private changed(): void {
    for (const w of [...this.watchers]) w();
  }

  protected abstract handle(req: EmulatorRequest, res: EmulatorResponse, body: Buffer): void | Promise<void>;

  private async receive(req: EmulatorRequest, res: EmulatorResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.arrivals++;
    this.changed();
    if (this.gate) await this.gate;
    res.once('finish', () => {
      this.answers++;
      this.changed();
    });
    await this.handle(req, res, Buffer.concat(chunks));
  }
}

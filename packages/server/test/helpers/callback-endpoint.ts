import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An app backend on a real socket: records every callback request and answers Tencent's OK. */
export class CallbackEndpoint {
  got: { query: URLSearchParams; events: Record<string, any>[] }[] = [];
  url = '';
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      this.got.push({ query: new URL(req.url!, 'http://x').searchParams, events: JSON.parse(Buffer.concat(chunks).toString()).Events });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}');
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  events(): Record<string, any>[] {
    return this.got.flatMap((g) => g.events);
  }

  /** Whether a request carries the Sign its token gives (hex sha256 of token and RequestTime). */
  static signedWith(query: URLSearchParams, token: string): boolean {
    return query.get('Sign') === crypto.createHash('sha256').update(`${token}${query.get('RequestTime')}`).digest('hex');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

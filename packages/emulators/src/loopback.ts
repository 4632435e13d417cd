import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An emulator's HTTP server on 127.0.0.1: start, stop, and each request's whole body read first. */
export abstract class LoopbackEmulator {
  /** `http://127.0.0.1:<port>` once started. */
  base = '';
  private server = http.createServer((req, res) => void this.receive(req, res));

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void | Promise<void>;

  private async receive(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    await this.handle(req, res, Buffer.concat(chunks));
  }
}

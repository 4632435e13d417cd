/**
 * The app's backend for the statistics variant of the fan-out benchmark: an HTTP server on loopback,
 * in the orchestrator's process (not Herald's), that answers every callback request as Tencent
 * expects and counts the events per TaskId and when the last one arrived.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class CallbackSink {
  private server = http.createServer((req, res) => this.handle(req, res));
  private perTask = new Map<string, number>();
  requests = 0;
  lastAt = 0;
  url = '';

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/herald-callback`;
    return this.url;
  }

  events(taskId: string): number {
    return this.perTask.get(taskId) ?? 0;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      this.lastAt = performance.timeOrigin + performance.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { Events?: { TaskId?: string }[] };
        for (const e of body.Events ?? []) this.perTask.set(String(e.TaskId), (this.perTask.get(String(e.TaskId)) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}');
      } catch {
        res.writeHead(400).end();
      }
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

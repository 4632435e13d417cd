import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/**
 * One HTTP/1.1 request on its own connection, written whole before a byte of the answer is read,
 * as the simplest clients do; resolves once the server has answered and closed the connection.
 * Rejects with "dropped: …" when the connection fails before the whole answer arrived (a reset
 * while sending, or a close mid-answer): what a server must never do to a client.
 */
export function sendThenRead(url: string, r: RawRequest): Promise<RawAnswer> {
  const u = new URL(url);
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const head = [`${r.method} ${r.path} HTTP/1.1`, `host: ${u.host}`, 'connection: close', `content-length: ${body.length}`];
  for (const [k, v] of Object.entries(r.headers ?? {})) head.push(`${k}: ${v}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | undefined, answer?: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => finish(new Error(`dropped: no answer in ${r.timeoutMs ?? 30_000} ms`)), r.timeoutMs ?? 30_000);
    socket.pause();
    socket.on('error', (e: NodeJS.ErrnoException) => finish(new Error(`dropped: ${e.code ?? e.message}`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      const answer = parseAnswer(Buffer.concat(chunks));
      finish(answer ? undefined : new Error(`dropped: the connection closed after ${Buffer.concat(chunks).length} bytes of answer`), answer);
    });
    socket.once('connect', () => {
      socket.write(head.join('\r\n') + '\r\n\r\n');
      socket.write(body, (e) => {
        if (e) return finish(new Error(`dropped: ${(e as NodeJS.ErrnoException).code ?? e.message} while sending`));
        socket.resume();
      });
    });
  });
}

/** The answer in `raw`, or undefined when it is cut short. */
function parseAnswer(raw: Buffer): RawAnswer | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const rest = raw.subarray(end + 4);
  const length = headers['content-length'] === undefined ? rest.length : Number(headers['content-length']);
  if (rest.length < length) return undefined;
  return { status, headers, body: rest.subarray(0, length).toString('utf8') };
}

import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How long a closing connection keeps reading what the client still sends after the answer. */
const LINGER_MS = 5000;

/**
 * Lets a client that is still sending its body read an answer given before the body ended, when
 * the connection closes after it: a body over the limit (Fastify answers it with `Connection:
 * close`), or a body a route does not read (a GET with one) from a client that asked to close.
 *
 * Node's HTTP server destroys such a socket as soon as the answer is written
 * (`socket.destroySoon()`). The request's unread bytes are still in the kernel's receive buffer, so
 * the kernel resets the connection instead of closing it, and a client still writing gets EPIPE or
 * ECONNRESET, often before it has read the answer (the "TCP reset problem", RFC 9112 §9.6). The
 * RFC's remedy, done here: close in stages. After the answer, only the sending side is closed; the
 * HTTP parser goes on reading the request and drops it; the socket closes when the client closes
 * its side, or after LINGER_MS. A connection that stays open is not touched: Node reads and drops
 * the rest of the body before the next request.
 */
export function closeWithoutReset(app: FastifyInstance): void {
  app.addHook('onSend', async (req, _reply, payload) => {
    if (!req.raw.complete) lingerOnClose(req.raw.socket);
    return payload;
  });
}

function lingerOnClose(socket: Socket): void {
  // Node's HTTP server calls destroySoon() once an answer that ends the connection is written
  // (_http_server.js resOnFinish); the server's sockets are half-open capable (allowHalfOpen).
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}

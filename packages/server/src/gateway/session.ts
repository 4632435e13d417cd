import type { WebSocket } from 'ws';
import type { Delivery, SessionSink } from '../cluster/index.js';
import { CloseCode, errorFrame } from './frames.js';

export interface AuthedDevice {
  appId: number;
  registrationId: string;
  locale: string | null;
}

/** Live messages kept for a session still sending its backlog. */
const MAX_HELD = 1000;

const enum State {
  Authing,
  Resuming,
  Live,
  Closed,
}

/**
 * One device connection. Kept small on purpose: the gateway holds tens of thousands of these, so
 * timers live in the gateway's sweep, not here.
 */
export class Session implements SessionSink {
  state = State.Authing;
  device: AuthedDevice | null = null;
  /** The client's address, kept until its auth frame has been checked. */
  address: string | null;
  lastRecv: number;
  lastSent: number;
  /** Live deliveries that arrive while the backlog is being sent. */
  private held: Delivery[] | null = null;
  /** Seqs sent from the backlog, so held copies of the same messages are not sent twice. */
  private resumed: Set<number> | null = null;

  constructor(readonly ws: WebSocket, address: string, now: number, private maxBuffered: number) {
    this.address = address;
    this.lastRecv = now;
    this.lastSent = now;
  }

  get authed(): boolean {
    return this.state === State.Resuming || this.state === State.Live;
  }

  get closed(): boolean {
    return this.state === State.Closed;
  }

  beginResume(device: AuthedDevice): void {
    this.device = device;
    this.state = State.Resuming;
    this.held = [];
    this.resumed = new Set();
  }

  /**
   * Sends one backlog message during resume. When the socket has more than its share queued,
   * returns a promise that settles once this frame reaches the kernel, so the caller can wait:
   * a long backlog must not be queued in memory at once.
   */
  sendBacklog(d: Delivery): Promise<void> | null {
    if (this.state === State.Closed) return null;
    this.resumed?.add(d.seq);
    this.lastSent = Date.now();
    if (this.ws.bufferedAmount + d.frame.length <= this.maxBuffered) {
      this.ws.send(d.frame);
      return null;
    }
    return new Promise<void>((resolve) => this.ws.send(d.frame, () => resolve()));
  }

  /** Backlog done: send what arrived meanwhile, then go live. */
  endResume(): void {
    if (this.state !== State.Resuming) return;
    const held = this.held ?? [];
    const resumed = this.resumed;
    this.held = null;
    this.resumed = null;
    this.state = State.Live;
    held.sort((a, b) => a.seq - b.seq);
    for (const d of held) if (!resumed?.has(d.seq)) this.send(d.frame);
  }

  deliver(d: Delivery): void {
    if (this.state === State.Live) this.send(d.frame);
    else if (this.state === State.Resuming && this.held) {
      this.held.push(d);
      // live messages for a device stuck in its backlog are in its inbox too
      if (this.held.length > MAX_HELD) this.drop();
    }
  }

  send(frame: string): void {
    if (this.state === State.Closed) return;
    this.lastSent = Date.now();
    this.ws.send(frame);
    // A device that stops reading would make the server buffer without bound. Its messages stay
    // in its inbox, so drop the connection: it gets them again, in order, when it reconnects.
    if (this.ws.bufferedAmount > this.maxBuffered) this.drop();
  }

  private drop(): void {
    this.state = State.Closed;
    this.ws.terminate();
  }

  close(code: number, reason: string): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    if (code !== CloseCode.normal && code !== CloseCode.goingAway) {
      try {
        this.ws.send(errorFrame(closeCodeName(code), reason));
      } catch {
        // the socket may already be gone; closing below is what matters
      }
    }
    this.ws.close(code, reason.slice(0, 120));
  }

  markClosed(): void {
    this.state = State.Closed;
  }
}

function closeCodeName(code: number): string {
  switch (code) {
    case CloseCode.invalidFrame:
      return 'invalid_frame';
    case CloseCode.authFailed:
      return 'auth_failed';
    case CloseCode.timeout:
      return 'timeout';
    case CloseCode.replaced:
      return 'replaced';
    case CloseCode.rateLimited:
      return 'rate_limited';
    default:
      return 'closed';
  }
}

/** Largest `seqs` array the gateway accepts in one `ack` frame (protocol §3.3). */
export const MAX_ACK_SEQS = 500;

/**
 * Collects acked seqs and sends them as one `ack` frame per short window, so a backlog of
 * messages costs a few frames instead of one per message.
 */
export class AckBatcher {
  private pending = new Set<number>();
  private timer?: ReturnType<typeof setTimeout>;

  /** `send` returns false when there is no open connection; the seqs are then kept for later. */
  constructor(
    private readonly delayMs: number,
    private readonly send: (seqs: number[]) => boolean,
  ) {}

  add(seq: number): void {
    this.pending.add(seq);
    if (this.pending.size >= MAX_ACK_SEQS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Sends everything pending now, in frames of at most MAX_ACK_SEQS, lowest seq first. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const seqs = [...this.pending].sort((a, b) => a - b);
    for (let i = 0; i < seqs.length; i += MAX_ACK_SEQS) {
      const chunk = seqs.slice(i, i + MAX_ACK_SEQS);
      if (!this.send(chunk)) return;
      for (const s of chunk) this.pending.delete(s);
    }
  }

  /** Drops what is pending: unacked messages are simply resent on the next connection. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}

/**
 * Collects items and hands them to `flush` together, at most every `delayMs` or once `maxItems`
 * are waiting: the hot paths (acks, clicks, status changes) write once per batch, not per item.
 * Flushes run one at a time; items that arrive meanwhile wait for the next one.
 */
export class Batcher<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private flushFn: (items: T[]) => Promise<void>,
    private onError: (err: unknown) => void,
    private delayMs = 20,
    private maxItems = 1000,
  ) {}

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.maxItems) this.kick(0);
    else this.kick(this.delayMs);
  }

  private kick(delay: number): void {
    if (this.running) return; // the running flush reschedules itself
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delay);
  }

  /** Writes everything waiting now; resolves when it is stored. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running) await this.running;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.running = this.flushFn(batch).catch(this.onError);
    await this.running;
    this.running = null;
    if (this.items.length > 0) this.kick(this.delayMs);
  }
}

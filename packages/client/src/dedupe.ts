/**
 * The most recent message ids handed to the app, bounded and evicted first-in first-out.
 * Delivery is at least once, so a resend (same id) must be recognised; a bounded window is enough
 * because the server only resends unacked, unexpired messages.
 */
export class SeenIds {
  // A Set iterates in insertion order, which makes it a FIFO queue with O(1) lookup.
  private readonly ids = new Set<string>();

  constructor(
    readonly capacity = 1000,
    initial: Iterable<string> = [],
  ) {
    for (const id of initial) this.add(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Returns false when the id was already there (its place in the queue is not refreshed). */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.ids.size;
  }

  /** Oldest first, the order to restore them in. */
  toArray(): string[] {
    return [...this.ids];
  }
}

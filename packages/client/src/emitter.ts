type Listener<T> = (payload: T) => unknown;

/**
 * A minimal typed event emitter that works the same in browsers and Node (Node's EventEmitter
 * would be a Node-only import, and throws on an unhandled 'error').
 */
export class Emitter<Events> {
  private readonly listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    let set = this.listeners[event];
    if (!set) this.listeners[event] = set = new Set();
    set.add(listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners[event]?.delete(listener);
  }

  listenerCount(event: keyof Events): number {
    return this.listeners[event]?.size ?? 0;
  }

  /**
   * Calls every listener and returns what each returned, with a synchronous throw turned into a
   * rejected promise, so the caller can await async listeners and handle failures in one place.
   */
  emit<K extends keyof Events>(event: K, payload: Events[K]): unknown[] {
    const set = this.listeners[event];
    if (!set) return [];
    // Copy first: a listener may remove itself.
    return [...set].map((listener) => {
      try {
        return listener(payload);
      } catch (err) {
        return Promise.reject(err);
      }
    });
  }
}

/**
 * Lets timers and I/O run. Kysely over better-sqlite3 settles every query as a microtask, so a long
 * loop of queries never gives the event loop a turn: loops over many batches call this between them.
 */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

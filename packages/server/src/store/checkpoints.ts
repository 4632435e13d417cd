import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface Checkpoints {
  stop(): Promise<void>;
}

/**
 * The checkpointer's thread. It copies the write-ahead log back into the database file on its own
 * connection, so the server's commits never pay for that copy and its syncs: SQLite would
 * otherwise run it inside whichever commit crosses the log's threshold, holding up the event loop
 * for tens of milliseconds at a time during a large push. PASSIVE checkpoints take no lock a
 * writer needs (sqlite.org/wal.html#ckpt), so the main thread's writers never wait for it; its
 * syncs are FULL, as the main connection's, so a checkpoint is as safe as one that ran there.
 * Plain CommonJS given as text: the same code runs from the sources and from the build, with no
 * loader in the thread.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqliteModule);
const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: err.message });
  }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Starts the background checkpointer of the SQLite file. The main connection keeps a far higher
 * threshold of its own (db.ts), so a log the checkpointer could not keep up with is still bounded.
 * `onError` hears of a checkpoint that failed; the next one tries again.
 */
export function startCheckpoints(file: string, onError: (message: string) => void, everyMs = 200): Checkpoints {
  const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, everyMs, sqliteModule } });
  worker.unref();
  worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
  worker.on('error', (err) => onError(err.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

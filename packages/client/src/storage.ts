import { importNodeModule, isBrowser, isNode } from './env.js';
import type { KeyValueStorage } from './types.js';

/** Keeps nothing across restarts; for tests, or runtimes without storage. */
export class MemoryStorage implements KeyValueStorage {
  private readonly map = new Map<string, string>();

  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }

  removeItem(key: string): void {
    this.map.delete(key);
  }
}

let tmpCounter = 0;

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/**
 * Node: all keys in one JSON file, owned by this process (the file is read once, then rewritten
 * from memory). Writes go to a temporary file that is then renamed over the
 * old one, so a crash never leaves half a file; the file is private (0600) as it holds the device
 * credential. `fs` is imported on first use so the module stays loadable in browsers.
 */
export class FileStorage implements KeyValueStorage {
  private data?: Promise<Map<string, string>>;
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async getItem(key: string): Promise<string | null> {
    return (await this.load()).get(key) ?? null;
  }

  async setItem(key: string, value: string): Promise<void> {
    (await this.load()).set(key, value);
    await this.save();
  }

  async removeItem(key: string): Promise<void> {
    const map = await this.load();
    if (map.delete(key)) await this.save();
  }

  private load(): Promise<Map<string, string>> {
    this.data ??= (async () => {
      const fs = await importNodeModule<Fs>('node:fs/promises');
      let text: string;
      try {
        text = await fs.readFile(this.path, 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return new Map();
        throw err;
      }
      const map = new Map<string, string>();
      try {
        const obj: unknown = JSON.parse(text);
        if (obj && typeof obj === 'object') {
          for (const [k, v] of Object.entries(obj)) if (typeof v === 'string') map.set(k, v);
        }
      } catch {
        // A corrupt file is treated as empty: the SDK registers again rather than failing forever.
      }
      return map;
    })();
    return this.data;
  }

  /** Writes one after another, each with the state as of its turn. */
  private save(): Promise<void> {
    const run = async (): Promise<void> => {
      const [fs, path, map] = await Promise.all([
        importNodeModule<Fs>('node:fs/promises'),
        importNodeModule<Path>('node:path'),
        this.load(),
      ]);
      const tmp = `${this.path}.${Date.now().toString(36)}-${++tmpCounter}.tmp`;
      await fs.mkdir(path.dirname(this.path), { recursive: true });
      await fs.writeFile(tmp, JSON.stringify(Object.fromEntries(map)), { mode: 0o600 });
      try {
        await fs.rename(tmp, this.path);
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw err;
      }
    };
    const next = this.writes.then(run, run);
    this.writes = next.catch(() => undefined);
    return next;
  }
}

export const DEFAULT_STORAGE_PATH = './.herald-device.json';

// One instance per path: two clients (say, two apps) sharing the default file must not overwrite
// each other's keys from separate in-memory copies.
const fileStorages = new Map<string, FileStorage>();

export function defaultStorage(storagePath = DEFAULT_STORAGE_PATH): KeyValueStorage {
  if (isBrowser()) {
    try {
      // Reading `localStorage` throws in some sandboxed iframes and privacy modes.
      const ls = globalThis.localStorage;
      if (ls) return ls;
    } catch {
      // fall through to memory
    }
    return new MemoryStorage();
  }
  if (isNode()) {
    let file = fileStorages.get(storagePath);
    if (!file) fileStorages.set(storagePath, (file = new FileStorage(storagePath)));
    return file;
  }
  return new MemoryStorage();
}

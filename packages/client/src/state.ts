import { SeenIds } from './dedupe.js';
import type { KeyValueStorage } from './types.js';

/** What the register call gave this install. */
export interface Registration {
  registrationId: string;
  credential: string;
  heartbeatSeconds: number;
  gatewayPath: string;
  /** The server it belongs to: a registration is worthless on another server. */
  server: string;
}

interface StoredRecord {
  v: 1;
  installId: string;
  registration?: Registration;
  seen?: string[];
}

export interface DeviceStateOptions {
  storage: KeyValueStorage;
  key: string;
  server: string;
  /** Seen ids change with every message; coalesce their writes. */
  saveDelayMs?: number;
  seenCapacity?: number;
  onError?: (err: unknown) => void;
}

/**
 * The device's persisted state — install id, registration and the window of seen message ids —
 * kept as one JSON record under one storage key, so one write saves all of it.
 */
export class DeviceState {
  installId = '';
  registration?: Registration;
  seen: SeenIds;
  /** Nothing is written before the record was read, or a flush would overwrite it with blanks. */
  private loaded = false;
  private saveTimer?: ReturnType<typeof setTimeout>;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly o: DeviceStateOptions) {
    this.seen = new SeenIds(o.seenCapacity);
  }

  /** Reads the record; makes and saves a new install id when there is none. */
  async load(): Promise<void> {
    const raw = await this.o.storage.getItem(this.o.key);
    const rec = parseRecord(raw);
    this.seen = new SeenIds(this.o.seenCapacity, rec?.seen ?? []);
    this.loaded = true;
    if (rec) {
      this.installId = rec.installId;
      this.registration = rec.registration?.server === this.o.server ? rec.registration : undefined;
    } else {
      this.installId = newInstallId();
      await this.flush();
    }
  }

  setRegistration(reg: Registration | undefined): Promise<void> {
    this.registration = reg;
    // The credential must survive a crash right after registering, so no debounce here.
    return this.flush();
  }

  /** Records an id as handed to the app; returns false if it had been seen already. */
  markSeen(id: string): boolean {
    if (!this.seen.add(id)) return false;
    this.scheduleSave();
    return true;
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.flush().catch((err: unknown) => this.o.onError?.(err));
    }, this.o.saveDelayMs ?? 1000);
  }

  /** Writes the record now (after any write already under way). */
  flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    if (!this.loaded) return this.saving;
    const write = async (): Promise<void> => {
      const rec: StoredRecord = { v: 1, installId: this.installId, seen: this.seen.toArray() };
      if (this.registration) rec.registration = this.registration;
      await this.o.storage.setItem(this.o.key, JSON.stringify(rec));
    };
    const next = this.saving.then(write, write);
    this.saving = next.catch(() => undefined);
    return next;
  }
}

const INSTALL_ID = /^[A-Za-z0-9._:-]{8,128}$/;

function parseRecord(raw: string | null): StoredRecord | undefined {
  if (!raw) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(obj) || typeof obj.installId !== 'string' || !INSTALL_ID.test(obj.installId)) return undefined;
  const rec: StoredRecord = { v: 1, installId: obj.installId };
  const reg = obj.registration;
  if (
    isObject(reg) &&
    typeof reg.registrationId === 'string' &&
    typeof reg.credential === 'string' &&
    typeof reg.heartbeatSeconds === 'number' &&
    typeof reg.gatewayPath === 'string' &&
    typeof reg.server === 'string'
  ) {
    rec.registration = {
      registrationId: reg.registrationId,
      credential: reg.credential,
      heartbeatSeconds: reg.heartbeatSeconds,
      gatewayPath: reg.gatewayPath,
      server: reg.server,
    };
  }
  if (Array.isArray(obj.seen)) rec.seen = obj.seen.filter((id): id is string => typeof id === 'string');
  return rec;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `inst_` + 32 hex digits from the platform CSPRNG (available in browsers and Node 20). */
export function newInstallId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return `inst_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

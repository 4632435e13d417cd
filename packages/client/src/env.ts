import type { Platform, WebSocketConstructorLike } from './types.js';

/** Runtime detection and the on-demand loading of Node-only modules. */

export function isBrowser(): boolean {
  return typeof window !== 'undefined' && typeof document !== 'undefined';
}

/** A dedicated or service worker (where web push lands): browser APIs, but no window or localStorage. */
export function isWebWorker(): boolean {
  return !isBrowser() && typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';
}

function processVersions(): Record<string, string | undefined> | undefined {
  // Read through globalThis so browsers (no `process`) do not throw.
  const proc = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process;
  return proc?.versions;
}

export function isNode(): boolean {
  return !isBrowser() && typeof processVersions()?.node === 'string';
}

export function defaultPlatform(): Platform {
  if (typeof processVersions()?.electron === 'string') return 'electron';
  if (typeof navigator !== 'undefined' && navigator.product === 'ReactNative') return 'react-native';
  if (isBrowser() || isWebWorker()) return 'web';
  if (isNode()) return 'node';
  return 'other';
}

/** The runtime's language, so the server can choose the message text (protocol §3.2). */
export function defaultLocale(): string | undefined {
  if ((isBrowser() || isWebWorker()) && typeof navigator !== 'undefined' && navigator.language) return navigator.language;
  try {
    return Intl.DateTimeFormat().resolvedOptions().locale || undefined;
  } catch {
    return undefined;
  }
}

export function defaultTimeZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `import()` of a Node-only module. The specifier goes through a variable and the magic comments
 * so browser bundlers neither try to resolve nor bundle it; the call only happens in Node.
 */
export async function importNodeModule<T>(specifier: string): Promise<T> {
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
}

/** `globalThis.WebSocket` when the runtime has one, else the `ws` package. */
export async function defaultWebSocket(): Promise<WebSocketConstructorLike> {
  const native: WebSocketConstructorLike | undefined =
    typeof globalThis.WebSocket === 'function' ? globalThis.WebSocket : undefined;
  if (native) return native;
  const mod = await importNodeModule<typeof import('ws')>('ws');
  const Base = mod.default;
  // The gateway negotiates no extension (protocol §3), so do not offer compression.
  return class NodeWebSocket extends Base {
    constructor(url: string) {
      super(url, { perMessageDeflate: false });
    }
  };
}

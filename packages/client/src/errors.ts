/**
 * Every error the SDK raises. `status` is the HTTP status of a device API reply, or 0 when there
 * was none (network failure, timeout, gateway). `code` is the protocol's error code when the server
 * sent one (`invalid_app`, `invalid_credential`, …), else an SDK code (`network_error`, …).
 */
export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  readonly status: number;
  readonly code: string;

  constructor(code: string, message: string, status = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
}

/** Worth retrying with back-off: no reply at all, rate limiting, or a server fault. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof HeraldError)) return false;
  return err.status === 0 ? err.code === 'network_error' || err.code === 'timeout' : err.status === 429 || err.status >= 500;
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

import type { z } from 'zod';
import { describeIssue } from '../zod-error.js';

/** An error answered as `{"error":{"code","message"}}` with an HTTP status (docs/protocol.md §2). */
export class DeviceApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export const invalidRequest = (message: string) => new DeviceApiError(400, 'invalid_request', message);

/** The input checked by `schema`, else a 400 naming the first bad field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw invalidRequest(describeIssue(r.error));
  return r.data;
}

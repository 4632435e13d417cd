/** An error answered as `{"error":{"code","message"}}` with an HTTP status (docs/protocol.md §2). */
export class DeviceApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export const invalidRequest = (message: string) => new DeviceApiError(400, 'invalid_request', message);

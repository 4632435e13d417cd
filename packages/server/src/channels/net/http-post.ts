import http from 'node:http';
import { Agent, request } from 'undici';

/**
 * What an adapter reads of a vendor's answer: the part of fetch's Response the channels use.
 */
export interface VendorResponse {
  status: number;
  ok: boolean;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * Keep-alive connections to each vendor host, shared by every certificate. fetch makes a Request,
 * a Response and WHATWG streams per call; at thousands of vendor requests a second that cost more
 * than the request itself (bench/offline), so vendor requests go through undici's request, the same
 * HTTP/1.1 pooling without them.
 */
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

const TIMEOUT_MS = 15_000;

/** POSTs `body` to `url`; the whole answer is read before this resolves. */
export function httpPost(url: string, headers: Record<string, string>, body: string | Uint8Array): Promise<VendorResponse> {
  return vendorRequest('POST', url, headers, body);
}

/** GETs `url` (a vendor's query call); the whole answer is read before this resolves. */
export function httpGet(url: string, headers: Record<string, string>): Promise<VendorResponse> {
  return vendorRequest('GET', url, headers);
}

async function vendorRequest(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<VendorResponse> {
  const res = await request(url, { method, headers, body, dispatcher: agent, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  const text = await res.body.text();
  const header = (name: string): string | null => {
    const v = res.headers[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  };
  return {
    status: res.statusCode,
    ok: res.statusCode >= 200 && res.statusCode < 300,
    statusText: http.STATUS_CODES[res.statusCode] ?? '',
    headers: { get: header },
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
  };
}

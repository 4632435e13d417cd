import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';

/** Whether the hop at `address` (0 = the socket's peer) is a proxy whose X-Forwarded-For is believed. */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * HERALD_TRUST_PROXY as a trust function, the one Fastify's `trustProxy` takes and the gateway
 * uses for upgrades, so both see the same client address. `true` trusts every hop; a list names
 * proxies by address, CIDR or `loopback`/`linklocal`/`uniquelocal`. Throws on an invalid entry.
 */
export function compileTrustProxy(setting: true | string[]): TrustProxy {
  return setting === true ? () => true : proxyAddr.compile(setting);
}

/** The client's address: the socket's peer, or behind trusted proxies the nearest untrusted X-Forwarded-For hop. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy | undefined): string {
  return trust ? proxyAddr(req, trust) : (req.socket.remoteAddress ?? '');
}

/**
 * The key an address is limited under: IPv4 as is (also when mapped into IPv6), IPv6 by its /64,
 * the block one subscriber is usually given, so that rotating addresses within it does not help.
 */
export function addressKey(address: string | undefined): string {
  // A socket already closed has no address; such requests share one key.
  if (!address) return 'unknown';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const plain = address.split('%')[0]!.toLowerCase();
  const [head = '', tail] = plain.split('::');
  const groups = head ? head.split(':') : [];
  if (tail !== undefined && groups.length < 4) {
    // "::" stands for as many zero groups as are missing; only the first four matter here.
    const rest = tail ? tail.split(':') : [];
    const restGroups = rest.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0); // a dotted IPv4 tail is two groups
    const zeros = 8 - groups.length - restGroups;
    groups.push(...Array<string>(zeros).fill('0'), ...rest);
  }
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';
import { AppError } from '../../shared/errors.js';

/** Addresses an http step may not reach unless allow-listed: loopback, private, link-local (cloud metadata), and the like. */
const BLOCKED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** The SSRF guard: which hosts and addresses outbound HTTP may reach. */
export interface Guard {
  /** An undici dispatcher whose every connection (redirects too) checks the resolved address. */
  dispatcher: Agent;
  /** Refuses a URL whose host is a blocked IP literal (those skip DNS, so the dispatcher never sees them). */
  assertAllowed(url: URL): void;
}

/**
 * Builds the guard from HTTP_ALLOWLIST (comma-separated host names, IPs and CIDRs). The check
 * runs on the address actually connected to, after DNS, so a name that resolves to a private
 * address (or changes its answer between check and use) is refused too.
 * @example createGuard('127.0.0.1, hooks.internal, 10.1.0.0/16')
 */
export function createGuard(allowlist: string): Guard {
  const blocked = new BlockList();
  for (const [net, prefix, family] of BLOCKED) blocked.addSubnet(net, prefix, family);
  const allowedNets = new BlockList();
  const allowedHosts = new Set<string>();
  for (const entry of allowlist.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    const [net, prefix] = entry.split('/');
    const family = net ? isIP(net) : 0;
    if (net && family) allowedNets.addSubnet(net, prefix ? Number(prefix) : family === 4 ? 32 : 128, family === 4 ? 'ipv4' : 'ipv6');
    else allowedHosts.add(entry);
  }
  const permitted = (host: string, address: string, family: number) =>
    allowedHosts.has(host.toLowerCase()) || allowedNets.check(address, family === 6 ? 'ipv6' : 'ipv4') || !blocked.check(address, family === 6 ? 'ipv6' : 'ipv4');

  const lookup = (hostname: string, options: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const refused = addresses.find((a) => !permitted(hostname, a.address, a.family));
      if (refused) return callback(blockedAddress(hostname, refused.address), []);
      callback(null, addresses);
    });
  };
  const assertAllowed = (url: URL) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const family = isIP(host);
    if (family && !permitted(host, host, family)) throw blockedAddress(host, host);
  };
  return { dispatcher: new Agent({ connect: { lookup } }), assertAllowed };
}

export const blockedAddress = (host: string, address: string) =>
  new AppError({ code: 'HTTP_BLOCKED_ADDRESS', message: `${host} resolves to ${address}, a private or local address; allow it with HTTP_ALLOWLIST` });

/** The blocked error inside a failed fetch, if that is why it failed. */
export function blockedCause(err: unknown): AppError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof AppError && e.code === 'HTTP_BLOCKED_ADDRESS') return e;
  }
  return undefined;
}

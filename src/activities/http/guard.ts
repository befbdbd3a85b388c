import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { AppError } from '../../shared/errors.js';
import { parseAllowlist } from './allowlist.js';
import { createReserved, hostReserved, refusedAsReserved, type Reserved } from '../reserved.js';
import { embeddedIpv4 } from './embedded-ipv4.js';

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
  // NAT64 local-use: where the IPv4 address sits depends on the operator's prefix length.
  ['64:ff9b:1::', 48, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  // Site-local: deprecated, but still routed inside some networks.
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** The SSRF guard: which hosts and addresses outbound HTTP may reach. */
export interface Guard {
  /** An undici dispatcher whose every connection (redirects too) checks the address and port connected to. */
  dispatcher: Agent;
  /** Refuses a URL whose host is a blocked IP literal before anything is sent. */
  assertAllowed(url: URL): void;
}

type Lookup = (
  hostname: string,
  options: object,
  callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * Builds the guard from HTTP_ALLOWLIST (see parseAllowlist: hosts, IPs, CIDRs, `host:port`,
 * `[v6]:port`). The check runs on the address actually connected to, after DNS, so a name that
 * resolves to a private address (or changes its answer between check and use) is refused too;
 * an IPv6 address that carries an IPv4 address (NAT64, 6to4, Teredo, ...) is held to the IPv4 rules.
 * The engine's own services (`reserved`) are refused whatever the allow-list says (HOST_RESERVED).
 * @example createGuard('hooks.internal, 10.1.0.0/16, localhost:3000')
 */
export function createGuard(allowlist: string, reserved: Reserved = createReserved()): Guard {
  const allowed = parseAllowlist(allowlist);
  const blocked = new BlockList();
  for (const [net, prefix, family] of BLOCKED) blocked.addSubnet(net, prefix, family);
  const addressPermitted = (address: string, family: 4 | 6, port: number): boolean =>
    allowed.allowsAddress(address, family, port) ||
    (!blocked.check(address, family === 6 ? 'ipv6' : 'ipv4') &&
      (family === 4 || embeddedIpv4(address).every((v4) => addressPermitted(v4, 4, port))));
  const permitted = (host: string, address: string, family: number, port: number) =>
    allowed.allowsHost(host, port) || addressPermitted(address, family === 6 ? 6 : 4, port);

  const anyReserved = async (host: string, addresses: LookupAddress[], port: number) => {
    for (const a of addresses) if (await refusedAsReserved(reserved, allowed, host, a.address, port)) return true;
    return false;
  };
  const lookupFor =
    (port: number): Lookup =>
    (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        const refused = addresses.find((a) => !permitted(hostname, a.address, a.family, port));
        if (refused) return callback(blockedAddress(hostname, refused.address), []);
        void anyReserved(hostname, addresses, port).then((hit) =>
          hit ? callback(hostReserved(hostname, port), []) : callback(null, addresses),
        );
      });
    };
  // The port is known per connection, not to a DNS lookup, so each port gets its own connector.
  const connectors = new Map<number, buildConnector.connector>();
  const connect: buildConnector.connector = (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    const literal = isIP(opts.hostname);
    if (literal && !permitted(opts.hostname, opts.hostname, literal, port))
      return callback(blockedAddress(opts.hostname, opts.hostname), null);
    let connector = connectors.get(port);
    if (!connector) connectors.set(port, (connector = buildConnector({ lookup: lookupFor(port) })));
    const open = connector;
    if (!literal) return open(opts, callback);
    // An address written in the URL is never looked up, so the reserved set is checked here.
    void refusedAsReserved(reserved, allowed, opts.hostname, opts.hostname, port).then((hit) =>
      hit ? callback(hostReserved(opts.hostname, port), null) : open(opts, callback),
    );
  };
  const assertAllowed = (url: URL) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const family = isIP(host);
    if (family && !permitted(host, host, family, portOf(url))) throw blockedAddress(host, host);
  };
  return { dispatcher: new Agent({ connect }), assertAllowed };
}

const portOf = (url: URL) => Number(url.port) || (url.protocol === 'https:' ? 443 : 80);

export const blockedAddress = (host: string, address: string) =>
  new AppError({
    code: 'HTTP_BLOCKED_ADDRESS',
    message: `${host} resolves to ${address}, a private or local address; allow it with HTTP_ALLOWLIST`,
  });

/** The blocked (or reserved) error inside a failed fetch, if that is why it failed. */
export function blockedCause(err: unknown): AppError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof AppError && (e.code === 'HTTP_BLOCKED_ADDRESS' || e.code === 'HOST_RESERVED')) return e;
  }
  return undefined;
}

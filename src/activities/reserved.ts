import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Config } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import type { Allowlist } from './http/allowlist.js';
import { embeddedIpv4, ipv6Groups } from './http/embedded-ipv4.js';

/** One of the engine's own services: where it listens, and what it is (named in refusals' logs, not to tenants). */
export interface ReservedEndpoint {
  host: string;
  port: number;
  what: string;
  /**
   * Reachable when HTTP_ALLOWLIST names it with its exact port (`127.0.0.1:3000`, not a bare host
   * or CIDR): only the API, which authenticates every call itself and which dev's examples call.
   */
  openWhenNamed?: boolean;
}

/**
 * The engine's own infrastructure, which no connector may reach whatever HTTP_ALLOWLIST says.
 * Reserved by address and port, so other services on the same address (a receiver on 127.0.0.1
 * that the allow-list permits) stay reachable. Names are compared after DNS resolution, on both
 * sides. An endpoint on this machine (a loopback, unspecified or local interface address) is
 * reserved on every address of this machine, as a server bound to 0.0.0.0 answers on all of them.
 */
export interface Reserved {
  /** The reserved endpoint this resolved address and port reach, if any. */
  match(address: string, port: number): Promise<ReservedEndpoint | undefined>;
  /** Reserves one more endpoint (the API's port, known once it listens). */
  add(endpoint: ReservedEndpoint): void;
}

/** How long a reserved endpoint's name resolution is trusted. */
const RESOLVE_TTL_MS = 30_000;

/**
 * The reserved set of a configuration: the run-index database, the Temporal frontend and Web UI,
 * Redis, the metrics ports and the API's own port.
 * @example createReserved(reservedEndpoints(config))
 */
export function reservedEndpoints(
  c: Pick<
    Config,
    | 'DATABASE_URL'
    | 'EMBEDDED_POSTGRES_PORT'
    | 'TEMPORAL_ADDRESS'
    | 'TEMPORAL_UI_URL'
    | 'REDIS_URL'
    | 'API_HOST'
    | 'API_PORT'
    | 'WORKER_METRICS_PORT'
    | 'TRIGGERS_METRICS_PORT'
    | 'TEMPORAL_SDK_METRICS_ADDRESS'
  >,
): ReservedEndpoint[] {
  const out: ReservedEndpoint[] = [];
  const fromUrl = (text: string | undefined, defaultPort: number, what: string) => {
    if (!text) return;
    const url = safeUrl(text);
    if (url) out.push({ host: bare(url.hostname) || '127.0.0.1', port: Number(url.port) || defaultPort, what });
  };
  fromUrl(c.DATABASE_URL, 5432, 'the run-index database (DATABASE_URL)');
  if (!c.DATABASE_URL) out.push({ host: '127.0.0.1', port: c.EMBEDDED_POSTGRES_PORT, what: 'the embedded PostgreSQL' });
  fromUrl(`tcp://${c.TEMPORAL_ADDRESS}`, 7233, 'the Temporal frontend (TEMPORAL_ADDRESS)');
  fromUrl(c.TEMPORAL_UI_URL, new URL(c.TEMPORAL_UI_URL).protocol === 'https:' ? 443 : 80, 'the Temporal Web UI');
  fromUrl(c.REDIS_URL, 6379, 'Redis (REDIS_URL)');
  if (c.TEMPORAL_SDK_METRICS_ADDRESS) fromUrl(`tcp://${c.TEMPORAL_SDK_METRICS_ADDRESS}`, 0, 'Temporal SDK metrics');
  // The metrics servers listen on this machine's loopback.
  for (const [port, what] of [
    [c.WORKER_METRICS_PORT, 'worker metrics (WORKER_METRICS_PORT)'],
    [c.TRIGGERS_METRICS_PORT, 'trigger service metrics (TRIGGERS_METRICS_PORT)'],
  ] as const)
    if (port) out.push({ host: '127.0.0.1', port, what });
  if (c.API_PORT) out.push({ host: c.API_HOST, port: c.API_PORT, what: 'the API (API_PORT)', openWhenNamed: true });
  return out.filter((e) => e.port > 0);
}

/**
 * The matcher over reserved endpoints; an empty list reserves nothing (unit tests of connectors).
 * @example await createReserved([{ host: '127.0.0.1', port: 5432, what: 'db' }]).match('127.0.0.2', 5432) // the db
 */
export function createReserved(endpoints: readonly ReservedEndpoint[] = []): Reserved {
  const list = [...endpoints];
  const cache = new Map<string, { at: number; addresses: Promise<string[]> }>();
  const addressesOf = (host: string): Promise<string[]> => {
    if (isIP(host)) return Promise.resolve([canonical(host)]);
    const hit = cache.get(host);
    if (hit && Date.now() - hit.at < RESOLVE_TTL_MS) return hit.addresses;
    // A name that does not resolve now reaches nothing now; it is tried again after the TTL.
    const addresses = lookup(host, { all: true }).then(
      (all) => all.map((a) => canonical(a.address)),
      () => [],
    );
    cache.set(host, { at: Date.now(), addresses });
    return addresses;
  };
  return {
    add: (endpoint) => void list.push(endpoint),
    async match(address, port) {
      const forms = [address, ...embeddedIpv4(address)].map(canonical);
      const local = thisMachine();
      const reachesLocal = forms.some((f) => isLocal(f, local));
      for (const endpoint of list) {
        if (endpoint.port !== port) continue;
        const targets = await addressesOf(bare(endpoint.host));
        if (targets.some((t) => forms.includes(t))) return endpoint;
        if (reachesLocal && targets.some((t) => isLocal(t, local))) return endpoint;
      }
      return undefined;
    },
  };
}

/**
 * Whether a connection to `host` (as the connector was given it) at `address` and `port` reaches a
 * reserved endpoint the allow-list does not open (see ReservedEndpoint.openWhenNamed).
 */
export async function refusedAsReserved(
  reserved: Reserved,
  allowed: Allowlist,
  host: string,
  address: string,
  port: number,
): Promise<boolean> {
  const hit = await reserved.match(address, port);
  if (!hit) return false;
  return !(hit.openWhenNamed && (allowed.namesPort(host, port) || allowed.namesPort(address, port)));
}

/** The refusal of a connection to a reserved endpoint (never retried: the address will not change its nature). */
export const hostReserved = (host: string, port: number) =>
  new AppError({
    code: 'HOST_RESERVED',
    message: `${host}:${port} is one of the engine's own services; no connector may reach it, whatever HTTP_ALLOWLIST says`,
    retryable: false,
  });

/** The reserved refusal inside a failed connection's error chain, if that is why it failed. */
export function reservedCause(err: unknown): AppError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof AppError && e.code === 'HOST_RESERVED') return e;
  }
  return undefined;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addSubnet('0.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addAddress('::', 'ipv6');

/** Whether an address reaches this machine: loopback, unspecified (0.0.0.0 connects here) or an interface's own. */
function isLocal(address: string, interfaces: ReadonlySet<string>): boolean {
  const family = isIP(address);
  if (!family) return false;
  return LOOPBACK.check(address, family === 6 ? 'ipv6' : 'ipv4') || interfaces.has(address);
}

/** This machine's interface addresses, read at each check (interfaces come and go). */
function thisMachine(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(canonical(a.address));
  return out;
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '').replace(/%.*$/, '');

/** One spelling per address, so `0:0::1` and `::1` compare equal. */
function canonical(address: string): string {
  const text = bare(address).toLowerCase();
  if (isIP(text) !== 6) return text;
  return (
    ipv6Groups(text)
      ?.map((g) => g.toString(16))
      .join(':') ?? text
  );
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

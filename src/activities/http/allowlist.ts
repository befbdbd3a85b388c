import { BlockList, isIP } from 'node:net';
import { AppError } from '../../shared/errors.js';

/** What HTTP_ALLOWLIST lets an http step reach despite the SSRF guard. */
export interface Allowlist {
  /** Whether this host name (as written in the URL) is allowed on this port. */
  allowsHost(host: string, port: number): boolean;
  /** Whether this address is allowed on this port. */
  allowsAddress(address: string, family: 4 | 6, port: number): boolean;
  /** Whether an entry names this host or address with exactly this port (`host:port`, not a bare host or CIDR). */
  namesPort(hostOrAddress: string, port: number): boolean;
}

const ANY = 0;

/**
 * Parses HTTP_ALLOWLIST: comma-separated host names, IPs and CIDRs (every port), or `host:port`,
 * `a.b.c.d:port` and `[v6]:port` (that port only), so development can open exactly the ports
 * the examples use and nothing else on the same machine.
 * @example parseAllowlist('hooks.internal, 10.1.0.0/16, localhost:3000, [::1]:8080')
 */
export function parseAllowlist(text: string): Allowlist {
  const hosts = new Map<string, Set<number>>();
  const nets = new Map<number, BlockList>();
  for (const entry of text
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)) {
    const { host, port } = splitPort(entry);
    const [net, prefix, extra] = host.split('/');
    const family = net ? isIP(net) : 0;
    if (family === 4 || family === 6) {
      const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
      if (
        extra !== undefined ||
        !Number.isInteger(bits) ||
        bits < 0 ||
        bits > (family === 4 ? 32 : 128) ||
        (prefix !== undefined && !/^\d+$/.test(prefix))
      )
        throw invalid(entry);
      const list = nets.get(port) ?? new BlockList();
      list.addSubnet(net ?? '', bits, family === 4 ? 'ipv4' : 'ipv6');
      nets.set(port, list);
    } else {
      if (!/^[a-z0-9_.-]+$/.test(host)) throw invalid(entry);
      hosts.set(host, (hosts.get(host) ?? new Set()).add(port));
    }
  }
  const inPorts = (ports: Set<number> | undefined, port: number) =>
    ports !== undefined && (ports.has(ANY) || ports.has(port));
  const inNets = (list: BlockList | undefined, address: string, family: 4 | 6) =>
    list?.check(address, family === 4 ? 'ipv4' : 'ipv6') ?? false;
  return {
    allowsHost: (host, port) => inPorts(hosts.get(host.toLowerCase()), port),
    allowsAddress: (address, family, port) =>
      inNets(nets.get(ANY), address, family) || inNets(nets.get(port), address, family),
    namesPort: (hostOrAddress, port) => {
      const family = isIP(hostOrAddress);
      if (family === 4 || family === 6) return inNets(nets.get(port), hostOrAddress, family);
      return hosts.get(hostOrAddress.toLowerCase())?.has(port) ?? false;
    },
  };
}

/** `[v6]:port`, `[v6]`, `host:port`, or a bare host, IP or CIDR (every port). */
function splitPort(entry: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? '', port: portOf(bracketed[2], entry) };
  const colons = entry.split(':').length - 1;
  if (colons !== 1) return { host: entry, port: ANY };
  const at = entry.lastIndexOf(':');
  return { host: entry.slice(0, at), port: portOf(entry.slice(at + 1), entry) };
}

function portOf(text: string | undefined, entry: string): number {
  if (text === undefined) return ANY;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw invalid(entry);
  return port;
}

const invalid = (entry: string) =>
  new AppError({
    code: 'INVALID_HTTP_ALLOWLIST',
    message: `HTTP_ALLOWLIST entry '${entry}' is not a host, IP, CIDR, host:port or [IPv6]:port`,
  });

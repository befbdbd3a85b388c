import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError } from '../shared/errors.js';
import { parseAllowlist } from './http/allowlist.js';
import { createGuard } from './http/guard.js';
import { createReserved, hostReserved, refusedAsReserved, type Reserved } from './reserved.js';

/**
 * The SSRF guard for connectors that open plain TCP connections (SMTP, PostgreSQL, Kafka): resolves
 * the host once, refuses a private or local address unless HTTP_ALLOWLIST allows the host or the
 * address, refuses the engine's own services whatever the allow-list says (HOST_RESERVED), and
 * answers the address to connect to, so a second lookup cannot answer differently.
 * @example const address = await createHostGuard('10.0.0.0/8').resolve('db.internal', 5432, 'SQL')
 */
export function createHostGuard(allowlist: string, reserved: Reserved = createReserved()) {
  const allowed = parseAllowlist(allowlist);
  const guard = createGuard(allowlist, reserved);
  return {
    async resolve(host: string, port: number, codePrefix: string): Promise<string> {
      let addresses: { address: string; family: number }[];
      try {
        addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
      } catch (err) {
        throw new AppError({
          code: `${codePrefix}_UNAVAILABLE`,
          message: `${host} could not be resolved`,
          retryable: true,
          cause: err,
        });
      }
      const first = addresses[0];
      if (!first)
        throw new AppError({ code: `${codePrefix}_UNAVAILABLE`, message: `${host} has no address`, retryable: true });
      if (!allowed.allowsHost(host, port)) {
        for (const a of addresses)
          guard.assertAllowed(new URL(`http://${a.family === 6 ? `[${a.address}]` : a.address}:${port}`));
      }
      for (const a of addresses)
        if (await refusedAsReserved(reserved, allowed, host, a.address, port)) throw hostReserved(host, port);
      return first.address;
    },
  };
}

export type HostGuard = ReturnType<typeof createHostGuard>;

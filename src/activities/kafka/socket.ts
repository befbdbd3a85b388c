import type { LookupAddress } from 'node:dns';
import { connect as netConnect, isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import { AppError } from '../../shared/errors.js';
import type { HostGuard } from '../host-guard.js';

const KEEP_ALIVE_MS = 60_000;
// A name that makes Node ask our lookup even for an address literal (it never asks for literals).
const PLACEHOLDER = 'broker.mini-zaps.invalid';

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * kafkajs's socket factory with the SSRF guard in front of every connection: the bootstrap brokers
 * and every broker the cluster advertises, which kafkajs connects to by itself. The guard's lookup
 * replaces Node's, so the address checked is the address connected to. A refusal is handed to
 * `refused` too, as kafkajs wraps socket errors into its own.
 * @example new Kafka({ brokers, socketFactory: guardedSocketFactory(createHostGuard(''), (e) => void (last = e)) })
 */
export function guardedSocketFactory(guard: HostGuard, refused: (err: AppError) => void): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const lookup = (_name: string, options: { all?: boolean }, callback: LookupCallback) => {
      guard.resolve(host, port, 'KAFKA').then(
        (address) => {
          const family = isIP(address);
          if (options.all) callback(null, [{ address, family }]);
          else callback(null, address, family);
        },
        (err: unknown) => {
          if (err instanceof AppError) refused(err);
          callback(err instanceof Error ? err : new Error(String(err)), []);
        },
      );
    };
    const literal = isIP(host) !== 0;
    const target = { host: literal ? PLACEHOLDER : host, port, lookup };
    const socket = ssl
      ? tlsConnect(
          {
            ...target,
            // The certificate is checked against the broker's name or address, never the placeholder.
            ...(literal
              ? { checkServerIdentity: (_: string, cert) => checkServerIdentity(host, cert) }
              : { servername: host }),
            ...(typeof ssl === 'object' ? ssl : {}),
          },
          onConnect,
        )
      : netConnect(target, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    return socket;
  };
}

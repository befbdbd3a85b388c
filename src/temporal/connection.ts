import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../shared/config.js';
import type { KeyRing } from '../shared/crypto.js';
import type { ClaimsRepo } from '../db/claims-repo.js';
import { ClaimCheckCodec } from './claim-check.js';
import { EncryptionCodec } from './codec.js';

type TemporalConfig = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS'>;

/** The payload codecs of a process: encryption (when on), then the claim-check of large payloads. */
export interface Codecs {
  /** The payload key ring, with ENCRYPT_PAYLOADS. */
  ring?: KeyRing;
  claims?: ClaimCheckCodec;
}

/** A process's codecs from its settings: large payloads are always claim-checked. */
export const createCodecs = (
  config: Pick<Config, 'CLAIM_CHECK_THRESHOLD_BYTES' | 'CLAIM_CHECK_CACHE_BYTES'>,
  claims: ClaimsRepo,
  ring?: KeyRing,
): Codecs => ({
  ring,
  claims: new ClaimCheckCodec(claims, {
    thresholdBytes: config.CLAIM_CHECK_THRESHOLD_BYTES,
    cacheBytes: config.CLAIM_CHECK_CACHE_BYTES,
  }),
});

/** The client and the worker encode and decode through the same codecs: encrypt first, then claim-check what is large. */
export const dataConverter = ({ ring, claims }: Codecs) => {
  const payloadCodecs = [...(ring ? [new EncryptionCodec(ring)] : []), ...(claims ? [claims] : [])];
  return payloadCodecs.length > 0 ? { payloadCodecs } : undefined;
};

const connectionOptions = (config: TemporalConfig) => ({
  address: config.TEMPORAL_ADDRESS,
  tls: config.TEMPORAL_TLS || config.TEMPORAL_API_KEY !== undefined,
  apiKey: config.TEMPORAL_API_KEY,
});

/**
 * A Temporal client for the API (starting, querying, cancelling runs); it carries the trace into
 * runs. On the connection of a worker in the same process, the runs it starts go eagerly to that
 * worker (see `triggerRun`); without one, its own connection (a little quicker per call).
 */
export async function connectClient(
  config: TemporalConfig,
  codecs: Codecs = {},
  workerConnection?: NativeConnection,
): Promise<Client> {
  const connection = workerConnection ?? (await Connection.connect(connectionOptions(config)));
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    dataConverter: dataConverter(codecs),
  });
}

/** The worker's connection. */
export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}

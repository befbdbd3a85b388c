import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../shared/config.js';
import type { KeyRing } from '../shared/crypto.js';
import { EncryptionCodec } from './codec.js';

type TemporalConfig = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS'>;

/** With payload encryption on, both the client and the worker encode and decode through the codec. */
export const dataConverter = (ring: KeyRing | undefined) => (ring ? { payloadCodecs: [new EncryptionCodec(ring)] } : undefined);

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
export async function connectClient(config: TemporalConfig, ring?: KeyRing, workerConnection?: NativeConnection): Promise<Client> {
  const connection = workerConnection ?? (await Connection.connect(connectionOptions(config)));
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] }, dataConverter: dataConverter(ring) });
}

/** The worker's connection. */
export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}

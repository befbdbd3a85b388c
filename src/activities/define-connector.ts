import type { z } from 'zod';
import type { ConnectionsRepo } from '../db/connections-repo.js';
import type { Metrics } from '../shared/metrics.js';
import { connectorActivity, runConnector, type ExecuteContext } from './connector-attempt.js';
import type { ConnectionKind } from './connection-kind.js';
import type { ConnectorDefaults, ConnectorInput, ConnectorResult } from './connector.js';
import type { TopicAccess } from './kafka/topic-access.js';
import type { RateStore } from './rate/store.js';
import type { Reserved } from './reserved.js';
import type { SecretSource } from './secret-stores/resolver.js';

/** What every connector's factory may use; the worker (and the API's step test) builds it once. */
export interface ConnectorDeps {
  /** HTTP_ALLOWLIST: private hosts and networks connectors may reach (SSRF guard). */
  allowlist: string;
  /** The engine's own services, which no connector reaches whatever the allow-list says; absent: none. */
  reserved?: Reserved;
  metrics?: Metrics;
  /** Where `$secret('…')` references are resolved (per tenant): the sealed store and the tenant's external stores. */
  secrets?: SecretSource;
  /** Where a step's `connection` is loaded (per tenant). */
  connections?: Pick<ConnectionsRepo, 'get'>;
  /** The largest output a step may return (STEP_OUTPUT_MAX_BYTES). */
  maxOutputBytes?: number;
  /** A code step's time (CODE_MAX_MS) and memory (CODE_MAX_MEMORY_MB) per call. */
  code?: { maxMs: number; maxMemoryMb: number };
  /**
   * Where a step's rate-limit key is checked right before sending, and paused by an upstream's
   * Retry-After; where a step's concurrency slot is leased again as each attempt starts.
   */
  rates?: Pick<RateStore, 'pause' | 'admit' | 'acquire'>;
  /** The Kafka topics a tenant may produce to; absent: its own prefix only (the default rules). */
  topics?: TopicAccess;
}

/** A connector's I/O: runs one attempt with the evaluated config and, when it uses one, the resolved connection. */
export type Execute<S extends z.ZodType, C> = (config: z.output<S>, ctx: ExecuteContext<C>) => Promise<unknown>;

/**
 * Everything the engine knows of one step type, written once in the connector's folder: its
 * config schema, defaults, description, an example step, the connection it takes, and the factory
 * of its I/O. Validation, the JSON Schema, the workflow's defaults, the worker's activities, the
 * catalogue and the step test are all derived from the list of these in `registry.ts`.
 */
export interface ConnectorSpec<T extends string, S extends z.ZodType, C> {
  type: T;
  description: string;
  configSchema: S;
  defaults: ConnectorDefaults;
  /** An example step of this type (`id` and `type` are added), shown in the catalogue and checked by a test. */
  example: { config: Record<string, unknown>; connection?: string };
  /** The kind of stored connection the step names in `connection`, and whether it must name one. */
  connection?: { kind: ConnectionKind<C>; required: boolean };
  /**
   * Top-level config fields that are never templated, with why and where values go instead (a
   * query's text: values are bound as parameters). Validation refuses `{{ }}` in them.
   */
  literal?: Readonly<Record<string, string>>;
  /** The shape of the step's output, where it has a fixed one (`mz test` checks mocked outputs against it). */
  outputSchema?: z.ZodType;
  create: (deps: ConnectorDeps) => Execute<S, C>;
}

/** A connector as the registry holds it: its types erased behind one activity signature. */
export interface Connector<T extends string = string> {
  type: T;
  description: string;
  configSchema: z.ZodType;
  defaults: ConnectorDefaults;
  example: { config: Record<string, unknown>; connection?: string };
  connection?: { kind: ConnectionKind; required: boolean };
  literal?: Readonly<Record<string, string>>;
  outputSchema?: z.ZodType;
  /** The Temporal activity of this step type, registered under the type's name. */
  activity: (deps: ConnectorDeps) => ConnectorActivity;
  /** One attempt outside Temporal (the step test); see runConnector. */
  attempt: (
    deps: ConnectorDeps,
  ) => (input: ConnectorInput, at: { signal: AbortSignal; attempt: number; used: string[] }) => Promise<unknown>;
}

export type ConnectorActivity = (input: ConnectorInput) => Promise<ConnectorResult>;

/**
 * Declares a connector; its `execute` is typed by its own config schema and connection kind.
 * @example defineConnector({ type: 'echo', description: 'Returns its config', configSchema: z.object({ say: z.string() }),
 *   defaults: { timeout: '5s', retry: { maxAttempts: 1 } }, example: { config: { say: 'hi' } }, create: () => async (config) => config })
 */
export function defineConnector<const T extends string, S extends z.ZodType, C = undefined>(
  spec: ConnectorSpec<T, S, C>,
): Connector<T> {
  const { create, connection, ...rest } = spec;
  const parts = (deps: ConnectorDeps) => ({
    type: spec.type,
    schema: spec.configSchema,
    execute: create(deps),
    connection,
    deps,
  });
  return {
    ...rest,
    ...(connection ? { connection: { kind: connection.kind.erased, required: connection.required } } : {}),
    activity: (deps) => connectorActivity(parts(deps)),
    attempt: (deps) => {
      const built = parts(deps);
      return (input, at) => runConnector(built, input, at);
    },
  };
}

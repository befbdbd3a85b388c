import { BUILT_IN_STEP_TYPES } from '../definitions/schema.js';
import type { ConnectorDefaults } from './connector.js';
import type { ConnectionKind } from './connection-kind.js';
import type { Connector, ConnectorActivity, ConnectorDeps } from './define-connector.js';

/** What the engine derives from a list of connectors. */
export interface Registry<T extends string = string> {
  types: readonly T[];
  get(type: string): Connector<T> | undefined;
  /** The connection kinds the connectors take, each once. */
  connectionKinds: ReadonlyMap<string, ConnectionKind>;
  /** Every connector's activity, registered under its step type. */
  activities(deps: ConnectorDeps): Record<string, ConnectorActivity>;
  /** Each step type's defaults, as the zod-free map the workflow reads must hold them. */
  defaults(): Record<string, ConnectorDefaults>;
}

/**
 * Checks a list of connectors and indexes it. Refuses, so the process does not start: a type
 * listed twice or named like a built-in step, a connector missing a part, two connection kinds
 * of the same name.
 */
export function buildRegistry<T extends string>(list: readonly Connector<T>[]): Registry<T> {
  const byType = new Map<string, Connector<T>>();
  const kinds = new Map<string, ConnectionKind>();
  for (const c of list) {
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(c.type))
      throw new Error(`connector type '${c.type}' is not 1-40 characters of a-z, 0-9 and _`);
    if (byType.has(c.type)) throw new Error(`connector '${c.type}' is registered twice`);
    if (BUILT_IN_STEP_TYPES.includes(c.type))
      throw new Error(`connector '${c.type}' takes the name of a built-in step type`);
    const missing = (['description', 'configSchema', 'defaults', 'example', 'activity', 'attempt'] as const).filter(
      (k) => !c[k],
    );
    if (!c.defaults?.timeout || !c.defaults.retry) missing.push('defaults');
    if (missing.length)
      throw new Error(`connector '${c.type}' is half-registered: it lacks ${[...new Set(missing)].join(', ')}`);
    const kind = c.connection?.kind;
    if (kind && kinds.has(kind.type) && kinds.get(kind.type) !== kind)
      throw new Error(`connection kind '${kind.type}' is defined twice`);
    if (kind) kinds.set(kind.type, kind);
    byType.set(c.type, c);
  }
  const types = list.map((c) => c.type);
  return {
    types,
    get: (type) => byType.get(type),
    connectionKinds: kinds,
    activities: (deps) => Object.fromEntries(list.map((c) => [c.type, c.activity(deps)])),
    defaults: () => Object.fromEntries(list.map((c) => [c.type, c.defaults])),
  };
}

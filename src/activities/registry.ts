import type { ConnectorDef } from './connector.js';
import { httpConnector } from './http/schema.js';

/**
 * Every connector step type. Pure (no I/O) so that validation can import it; the workflow reads
 * `defaults.ts` instead, which loads no zod. Adding a connector: a folder under src/activities/
 * and one line here (the type checker then asks for its activity in `activities.ts` and its
 * defaults in `defaults.ts`).
 */
export const connectors = {
  http: httpConnector,
  webhook: httpConnector,
} as const satisfies Record<string, ConnectorDef>;

export type ConnectorType = keyof typeof connectors;
export const CONNECTOR_TYPES = ['http', 'webhook'] as const satisfies readonly ConnectorType[];


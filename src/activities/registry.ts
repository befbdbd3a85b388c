import { codeConnector } from './code/definition.js';
import { emailConnector } from './email/definition.js';
import { httpConnector, webhookConnector } from './http/definition.js';
import { kafkaConnector } from './kafka/definition.js';
import { buildRegistry } from './registry-checks.js';
import { slackConnector } from './slack/definition.js';
import { sqlConnector } from './sql/definition.js';

/**
 * Every connector step type, one line each. Validation, the published JSON Schema, the
 * defaults every run is stamped with (src/runs/run-input.ts), the worker's activities, the catalogue (`GET /v1/connectors`) and the step test all come from here.
 * Adding a connector: a folder under src/activities/ and one line here (docs/connectors.md, "Add a connector").
 */
export const CONNECTORS = [
  httpConnector,
  webhookConnector,
  emailConnector,
  sqlConnector,
  slackConnector,
  kafkaConnector,
  codeConnector,
] as const;

export type ConnectorType = (typeof CONNECTORS)[number]['type'];
export const CONNECTOR_TYPES = CONNECTORS.map((c): ConnectorType => c.type);

// The language's connector step types are these (src/definitions/schema.ts, ConnectorTypeNames).
declare module '../definitions/schema.js' {
  interface ConnectorTypeNames {
    registered: (typeof CONNECTORS)[number]['type'];
  }
}

/** The list checked (no duplicate, nothing half-registered) and indexed by type. */
export const registry = buildRegistry(CONNECTORS);

import type { ConnectorStep, Step } from '../definitions/schema.js';
import type { ConnectorDefaults } from './connector.js';
import { httpDefaults } from './http/defaults.js';
import type { ConnectorType } from './registry.js';

/**
 * Each connector's default timeout and retries, as the workflow reads them. Kept apart from the
 * config schemas: the workflow bundle's modules are evaluated afresh for every run, and zod's
 * schemas would cost each run more than its steps do.
 */
export const connectorDefaults: Record<ConnectorType, ConnectorDefaults> = {
  http: httpDefaults,
  webhook: httpDefaults,
};

export const isConnectorStep = (step: Step): step is ConnectorStep => Object.hasOwn(connectorDefaults, step.type);

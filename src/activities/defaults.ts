import type { ConnectorStep, Step } from '../definitions/schema.js';
import type { ConnectorDefaults } from './connector.js';
import { CONNECTOR_DEFAULTS } from './defaults.generated.js';
import type { ConnectorType } from './registry.js';

/**
 * Each connector's default timeout, retries and activity kind, as the workflow reads them. Kept
 * apart from the connectors themselves: the workflow bundle's modules are evaluated afresh for
 * every run, and zod's schemas would cost each run more than its steps do. Generated from the
 * registry; the worker refuses to start, and a test fails, when it is stale.
 */
export const connectorDefaults: Record<ConnectorType, ConnectorDefaults> = CONNECTOR_DEFAULTS;

export const isConnectorStep = (step: Step): step is ConnectorStep => Object.hasOwn(connectorDefaults, step.type);

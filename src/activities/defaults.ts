import type { ConnectorDefaults } from './connector.js';

/** Each step type's default timeout, retries and activity kind, as a run reads them. */
export type ConnectorDefaultsMap = Record<string, ConnectorDefaults>;

/**
 * The defaults of the connectors that existed before runs carried their own (`connectors` in the
 * run input, stamped from the registry when the run starts): runs started before that read these,
 * so they replay as they ran. Frozen: never change an entry or add a connector here.
 */
export const LEGACY_CONNECTOR_DEFAULTS: ConnectorDefaultsMap = {
  http: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
  },
  webhook: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
  },
  email: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m' },
  },
  sql: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  },
  slack: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
  },
  kafka: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  },
};

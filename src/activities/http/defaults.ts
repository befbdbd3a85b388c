import type { ConnectorDefaults } from '../connector.js';

/** Timeout and retries of an `http` step that sets none (free of zod: the workflow reads it). */
export const httpDefaults: ConnectorDefaults = { timeout: '30s', retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' } };

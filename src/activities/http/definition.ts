import { defineConnector, type ConnectorDeps } from '../define-connector.js';
import { createHttpExecute } from './activity.js';
import { httpConnection } from './connection.js';
import { HttpConfigSchema, HttpOutputSchema } from './schema.js';

const spec = {
  description:
    'Calls an HTTP API. Output `{status, headers, body}`. Sends `Idempotency-Key: <runId>:<stepId>`; 408, 429, 5xx and network errors are retried ' +
    '(Retry-After honoured), other statuses outside `expectStatus` are not. Private addresses need HTTP_ALLOWLIST. ' +
    'A `connection` of type `http` adds its headers and credentials (bearer, basic, API key, OAuth2 client credentials).',
  configSchema: HttpConfigSchema,
  defaults: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
  },
  example: {
    config: { method: 'POST', url: 'https://crm.example.com/contacts', body: { email: '{{ trigger.email }}' } },
  },
  connection: { kind: httpConnection, required: false },
  outputSchema: HttpOutputSchema,
  create: (deps: ConnectorDeps) => createHttpExecute(deps.allowlist, deps.reserved),
};

/** `http`: one HTTP request (see createHttpExecute). */
export const httpConnector = defineConnector({ type: 'http', ...spec });

/** `webhook`: another name for `http`, kept for the workflows that use it. */
export const webhookConnector = defineConnector({ type: 'webhook', ...spec });

/**
 * The `http` activity on its own (tests).
 * @example createHttpActivity({ allowlist: 'hooks.internal' })({ config: { method: 'GET', url: 'https://example.com' }, ... })
 */
export const createHttpActivity = (deps: ConnectorDeps) => httpConnector.activity(deps);

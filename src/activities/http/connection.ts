import { fetch } from 'undici';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { defineConnectionKind, type ConnectionConfig } from '../connection-kind.js';
import { createGuard } from './guard.js';
import { oauth2Token } from './oauth2.js';

const AuthSchema = (secret: z.ZodString) =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('bearer'), token: secret }),
    z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: secret }),
    /** An API key sent in a header (e.g. `X-Api-Key`) or a query parameter. */
    z.strictObject({
      type: z.literal('apiKey'),
      in: z.enum(['header', 'query']),
      name: z.string().min(1).max(200),
      value: secret,
    }),
    /** OAuth2 client credentials: the token is fetched, cached until shortly before it expires, and refreshed. */
    z.strictObject({
      type: z.literal('oauth2'),
      tokenUrl: z.url({ protocol: /^https?$/ }),
      clientId: z.string().min(1),
      clientSecret: secret,
      scope: z.string().optional(),
      audience: z.string().optional(),
    }),
  ]);

/**
 * An `http` connection: the origin it is for (its credentials go nowhere else), headers sent
 * with every request, and how requests authenticate.
 * @example { "baseUrl": "https://api.example.com", "auth": { "type": "bearer", "token": "$secret('crm_token')" } }
 */
export const httpConnection = defineConnectionKind({
  type: 'http',
  description:
    'An HTTP API: its base URL and credentials (bearer, basic, API key in a header or the query, OAuth2 client credentials).',
  example: { baseUrl: 'https://api.example.com', auth: { type: 'bearer', token: "$secret('crm_token')" } },
  schema: (secret) =>
    z.strictObject({
      baseUrl: z.url({ protocol: /^https?$/, error: 'baseUrl must be an absolute http(s) URL' }),
      headers: z.record(z.string(), z.string()).default({}),
      auth: AuthSchema(secret).optional(),
    }),
  // An OAuth2 connection proves itself by getting a token; the others by reaching their base URL.
  test: async (config, { signal, deps }) => {
    const guard = createGuard(deps.allowlist, deps.reserved);
    if (config.auth?.type === 'oauth2') {
      const token = await oauth2Token(config.auth, { guard, signal, fresh: true });
      return { token: 'obtained', expiresInSeconds: Math.round((token.expiresAt - Date.now()) / 1000) };
    }
    const url = new URL(config.baseUrl);
    guard.assertAllowed(url);
    try {
      const res = await fetch(url, { method: 'GET', signal, redirect: 'manual', dispatcher: guard.dispatcher });
      await res.body?.cancel();
      return { status: res.status };
    } catch (err) {
      throw new AppError({
        code: 'HTTP_NETWORK_ERROR',
        message: `${url.origin} could not be reached`,
        retryable: true,
        cause: err,
      });
    }
  },
});

export type HttpConnection = ConnectionConfig<typeof httpConnection>;
export type HttpAuth = NonNullable<HttpConnection['auth']>;

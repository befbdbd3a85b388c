import { AppError } from '../../shared/errors.js';
import type { HttpConnection } from './connection.js';
import type { Guard } from './guard.js';
import { oauth2Token } from './oauth2.js';
import type { HttpConfig } from './schema.js';

/**
 * The step's config with its connection applied: the connection's headers (the step's win) and
 * its credentials. Credentials go only to the connection's origin, so a step whose URL is
 * elsewhere fails (not retried). Credentials obtained here (an OAuth2 token) join `secrets`, so
 * they are redacted and never follow a redirect to another origin.
 */
export async function withConnection(
  config: HttpConfig,
  connection: HttpConnection,
  opts: { guard: Guard; signal: AbortSignal; secrets: string[] },
): Promise<HttpConfig> {
  const base = new URL(connection.baseUrl);
  const url = new URL(config.url);
  if (url.origin !== base.origin) {
    throw new AppError({
      code: 'HTTP_CONNECTION_ORIGIN',
      message: `the step's URL is on ${url.origin}, but its connection is for ${base.origin}; its credentials go nowhere else`,
    });
  }
  const headers: Record<string, string> = { ...connection.headers, ...config.headers };
  const query = { ...config.query };
  const auth = connection.auth;
  if (auth?.type === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  if (auth?.type === 'basic') {
    const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    opts.secrets.push(encoded);
    headers.authorization = `Basic ${encoded}`;
  }
  if (auth?.type === 'apiKey' && auth.in === 'header') headers[auth.name] = auth.value;
  if (auth?.type === 'apiKey' && auth.in === 'query') query[auth.name] = auth.value;
  if (auth?.type === 'oauth2') {
    const token = await oauth2Token(auth, { guard: opts.guard, signal: opts.signal });
    opts.secrets.push(token.accessToken);
    headers.authorization = `Bearer ${token.accessToken}`;
  }
  return { ...config, headers, query };
}

import { createHash } from 'node:crypto';
import { fetch } from 'undici';
import { ByteLru } from '../../shared/byte-lru.js';
import { AppError } from '../../shared/errors.js';
import { blockedCause, type Guard } from './guard.js';

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
  audience?: string | undefined;
}

interface Token {
  accessToken: string;
  expiresAt: number;
}

/** Tokens of every connection of this process, bounded in bytes (a token is short; 1 MiB holds thousands). */
const tokens = new ByteLru<Token>(1024 * 1024);
/** A token this close to its expiry is refreshed before use, so it does not lapse in flight. */
const REFRESH_MARGIN_MS = 30_000;
const DEFAULT_LIFETIME_S = 300;

const keyOf = (c: ClientCredentials) =>
  createHash('sha256')
    .update(JSON.stringify([c.tokenUrl, c.clientId, c.clientSecret, c.scope ?? '', c.audience ?? '']))
    .digest('hex');

/** Forgets a connection's token (after the API refused it), so the next attempt fetches a new one. */
export const forgetToken = (c: ClientCredentials): void => tokens.delete(keyOf(c));

/**
 * An OAuth2 client-credentials access token: the cached one while it has more than 30 s to live,
 * otherwise a new one from the token endpoint (through the SSRF guard). A refusal by the endpoint
 * (400/401/403) is BAD_CREDENTIALS-like and not retried; its being down is retried.
 */
export async function oauth2Token(
  c: ClientCredentials,
  opts: { guard: Guard; signal: AbortSignal; fresh?: boolean },
): Promise<Token> {
  const key = keyOf(c);
  const cached = opts.fresh ? undefined : tokens.get(key);
  if (cached && cached.expiresAt - REFRESH_MARGIN_MS > Date.now()) return cached;
  const url = new URL(c.tokenUrl);
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: c.clientId,
    client_secret: c.clientSecret,
  });
  if (c.scope) form.set('scope', c.scope);
  if (c.audience) form.set('audience', c.audience);
  let status: number;
  let body: unknown;
  try {
    opts.guard.assertAllowed(url);
    const res = await fetch(url, {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      signal: opts.signal,
      redirect: 'manual',
      dispatcher: opts.guard.dispatcher,
    });
    status = res.status;
    body = await res.json().catch(() => undefined);
  } catch (err) {
    const blocked = blockedCause(err);
    if (blocked) throw blocked;
    throw new AppError({
      code: opts.signal.aborted ? 'HTTP_TIMEOUT' : 'OAUTH2_UNAVAILABLE',
      message: `the token endpoint ${url.origin} could not be reached`,
      retryable: true,
    });
  }
  if (status === 400 || status === 401 || status === 403) {
    throw new AppError({
      code: 'OAUTH2_BAD_CREDENTIALS',
      message: `the token endpoint ${url.origin} refused the client credentials (${status})`,
      retryable: false,
      httpStatus: 400,
    });
  }
  const accessToken =
    typeof body === 'object' && body !== null && 'access_token' in body && typeof body.access_token === 'string'
      ? body.access_token
      : undefined;
  if (status >= 300 || !accessToken)
    throw new AppError({
      code: 'OAUTH2_UNAVAILABLE',
      message: `the token endpoint ${url.origin} answered ${status} without an access token`,
      retryable: true,
    });
  const lifetime =
    typeof body === 'object' && body !== null && 'expires_in' in body && typeof body.expires_in === 'number'
      ? body.expires_in
      : DEFAULT_LIFETIME_S;
  const token = { accessToken, expiresAt: Date.now() + lifetime * 1000 };
  tokens.set(key, token, key.length + accessToken.length);
  return token;
}

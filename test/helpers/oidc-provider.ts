import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { untilStarted } from './patience.js';

/** A server on a free loopback port, for `startOidcProvider`: listening holds the port meanwhile. */
export async function listenForProvider(): Promise<Server> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** The issuer a provider on `server` has: its address. */
export function issuerOf(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('the provider server is not listening on a port');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * A real OpenID Connect provider (panva's `oidc-provider`) on loopback: clients that must use
 * PKCE, its development login and consent pages (any login, any password), and access tokens
 * issued as RS256 JWTs for one API audience (resource indicators) carrying `scope` and extra claims.
 * It is returned once its discovery document answers (within the suite's start patience).
 */
export async function startOidcProvider(opts: {
  /** Already listening on loopback, so that its address (the issuer) is known and held from the start. */
  server: Server;
  /** Public clients (no secret) and confidential ones (HTTP Basic). */
  clients: { id: string; secret?: string; redirectUri: string }[];
  /** The API's audience (a URI, as resource indicators are). */
  audience: string;
  /** The API scopes this provider may grant for the audience. */
  scopes: string;
  /** Claims every access token carries, e.g. the tenant. */
  claims: Record<string, string>;
}): Promise<{ issuer: string; jwksUrl: string; close: () => Promise<void> }> {
  const issuer = issuerOf(opts.server);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: opts.clients.map((client) => ({
      client_id: client.id,
      ...(client.secret
        ? { client_secret: client.secret, token_endpoint_auth_method: 'client_secret_basic' }
        : { token_endpoint_auth_method: 'none' }),
      redirect_uris: [client.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [jwk] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => opts.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: opts.scopes,
          audience: opts.audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: () => opts.claims,
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
  });
  const server = opts.server;
  server.on('request', provider.callback());
  // What it says when it fails: quoted if its discovery document does not answer.
  let output = '';
  provider.on('server_error', (_ctx: unknown, err: Error) => void (output += `${err.stack ?? String(err)}\n`));
  await untilStarted('the OIDC provider', async () => (await fetch(`${issuer}/.well-known/openid-configuration`)).ok, {
    output: () => output,
  });
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

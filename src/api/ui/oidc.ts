import * as oauth from 'oauth4webapi';
import { callbackError, exchangeFailed, providerUnavailable } from './login-errors.js';

/** What the console's sign-in needs to know of the provider and of itself. */
export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scopes: string;
}

/** What `/ui/login` keeps in its cookie until the provider sends the browser back. */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

const TIMEOUT_MS = 5000;
/** Discovery documents and token answers are small; a larger answer is refused unread. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * The client side of the OIDC authorization code flow with PKCE, on oauth4webapi. The provider's
 * metadata is discovered once from `${issuer}/.well-known/openid-configuration` and kept; a failed
 * discovery is tried again on the next sign-in. Every request to the provider is bounded in time
 * and size.
 *
 * @example
 * const oidc = oidcClient({ issuer: 'https://id.example.com', clientId: 'console', scopes: 'openid runs:read' });
 * const { url, pending } = await oidc.start('https://zaps.example.com/ui/callback');
 */
export function oidcClient(settings: OidcClientSettings) {
  const issuer = new URL(settings.issuer);
  const client: oauth.Client = { client_id: settings.clientId };
  const clientAuth = settings.clientSecret ? oauth.ClientSecretBasic(settings.clientSecret) : oauth.None();
  const options = {
    signal: () => AbortSignal.timeout(TIMEOUT_MS),
    [oauth.customFetch]: boundedFetch,
    // Plain http only for a provider on this machine (development and tests).
    [oauth.allowInsecureRequests]: issuer.protocol === 'http:' && isLoopback(issuer.hostname),
  };
  const scope = [...new Set(['openid', ...settings.scopes.split(/\s+/).filter(Boolean)])].join(' ');
  let metadata: Promise<oauth.AuthorizationServer> | undefined;
  const discover = () => {
    metadata ??= oauth
      .discoveryRequest(issuer, { ...options, algorithm: 'oidc' })
      .then((res) => oauth.processDiscoveryResponse(issuer, res))
      .catch((err: unknown) => {
        metadata = undefined;
        throw providerUnavailable(err);
      });
    return metadata;
  };

  return {
    /** The provider's authorization URL for a new sign-in, and what the callback will need. */
    async start(redirectUri: string): Promise<{ url: URL; pending: PendingLogin }> {
      const as = await discover();
      if (!as.authorization_endpoint) throw providerUnavailable('its metadata names no authorization_endpoint');
      const pending = {
        state: oauth.generateRandomState(),
        nonce: oauth.generateRandomNonce(),
        verifier: oauth.generateRandomCodeVerifier(),
        redirectUri,
      };
      const url = new URL(as.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: settings.clientId,
        redirect_uri: redirectUri,
        scope,
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      }).toString();
      return { url, pending };
    },

    /**
     * Checks the provider's answer to a sign-in (its `state` already compared with the cookie's)
     * and exchanges the code for tokens; returns the access token.
     */
    async finish(callback: URL, pending: PendingLogin): Promise<string> {
      const as = await discover();
      let params: URLSearchParams;
      try {
        params = oauth.validateAuthResponse(as, client, callback, pending.state);
      } catch (err) {
        throw callbackError(err);
      }
      try {
        const res = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          clientAuth,
          params,
          pending.redirectUri,
          pending.verifier,
          options,
        );
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, {
          expectedNonce: pending.nonce,
          requireIdToken: true,
        });
        return tokens.access_token;
      } catch (err) {
        throw exchangeFailed(err);
      }
    },
  };
}

export type OidcClient = ReturnType<typeof oidcClient>;

async function boundedFetch(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_RESPONSE_BYTES) throw new TooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  for (let r = await reader?.read(); r && !r.done; r = await reader?.read()) {
    size += r.value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader?.cancel();
      throw new TooLarge();
    }
    chunks.push(r.value);
  }
  return new Response(res.status === 204 ? null : Buffer.concat(chunks), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

class TooLarge extends Error {
  constructor() {
    super(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { MiddlewareHandler } from 'hono';
import { assertAuthConfig, type Config } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import { DEV_ECHO_PATH, devEchoOn } from '../dev-echo.js';
import type { ApiEnv } from '../env.js';
import { problemResponse } from '../problem.js';

type AuthConfig = Pick<
  Config,
  | 'NODE_ENV'
  | 'AUTH_MODE'
  | 'AUTH_HS256_SECRET'
  | 'AUTH_JWKS_URL'
  | 'AUTH_ISSUER'
  | 'AUTH_AUDIENCE'
  | 'AUTH_TENANT_CLAIM'
  | 'AUTH_MAX_TOKEN_AGE_S'
> &
  Partial<Pick<Config, 'API_DEV_ECHO'>>;

/**
 * Paths anyone may call: probes, metrics, API docs, the console's page and scripts (no data: the
 * console calls /v1 with a token), its sign-in (which yields a token), and webhooks and approval links (which carry their own token).
 */
const PUBLIC =
  /^\/(healthz|readyz|metrics|openapi\.json|docs|ui|ui\/login|ui\/callback)$|^\/(docs|ui)\/assets\/|^\/(hooks|approvals)\//;

/**
 * Bearer JWT authentication: HS256 with a shared secret, or an OIDC issuer's JWKS (issuer and
 * audience checked). Algorithms are pinned (no `none`, no confusion between HMAC and keys);
 * `exp` and `iat` are required, a token may be no older and live no longer than
 * AUTH_MAX_TOKEN_AGE_S, and not-before is enforced. The tenant comes from a claim, scopes from
 * `scope`/`scp`, the subject (for the audit trail) from `sub`. Which scope a route needs is declared with the route (`requires` in scopes.ts);
 * here every non-public path only needs a valid token, so a route without a declaration is still
 * closed to anonymous callers. With AUTH_MODE=off every request acts as tenant `default` with
 * every scope, as subject `anonymous`.
 */
export function authMiddleware(config: AuthConfig): MiddlewareHandler<ApiEnv> {
  assertAuthConfig(config);
  const verify = verifier(config);
  // The examples' echo (dev only) is called by http steps, which carry no token.
  const echo = devEchoOn(config);
  return async (c, next) => {
    if (PUBLIC.test(c.req.path) || c.req.method === 'OPTIONS' || (echo && c.req.path === DEV_ECHO_PATH)) return next();
    let tenantId = 'default';
    let subject = 'anonymous';
    let scopes: ReadonlySet<string> = new Set<string>(['admin', 'operator']);
    if (verify) {
      const header = c.req.header('authorization') ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (!token) return unauthenticated(c, 'a bearer token is required');
      let payload: JWTPayload;
      try {
        payload = await verify(token);
      } catch (err) {
        return unauthenticated(c, reason(err));
      }
      const tenant = payload[config.AUTH_TENANT_CLAIM];
      if (typeof tenant !== 'string' || tenant === '')
        return unauthenticated(c, `the token has no '${config.AUTH_TENANT_CLAIM}' claim`);
      tenantId = tenant;
      subject = typeof payload.sub === 'string' && payload.sub ? payload.sub.slice(0, 200) : 'unknown';
      scopes = scopesOf(payload);
    }
    c.set('tenantId', tenantId);
    c.set('subject', subject);
    c.set('scopes', scopes);
    c.set('logger', c.var.logger.child({ tenant: tenantId }));
    return next();
  };
}

const CLOCK_TOLERANCE_S = 5;

function verifier(config: AuthConfig): ((token: string) => Promise<JWTPayload>) | undefined {
  if (config.AUTH_MODE === 'off') return undefined;
  const maxAge = config.AUTH_MAX_TOKEN_AGE_S;
  const claims = {
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    clockTolerance: CLOCK_TOLERANCE_S,
    requiredClaims: ['exp', 'iat'],
    maxTokenAge: maxAge,
  };
  const bounded = (payload: JWTPayload): JWTPayload => {
    // maxTokenAge bounds the age now; this bounds what the token was issued for.
    if ((payload.exp ?? Infinity) - (payload.iat ?? 0) > maxAge + CLOCK_TOLERANCE_S) throw new TokenTooLong(maxAge);
    return payload;
  };
  if (config.AUTH_MODE === 'jwks') {
    const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL ?? ''));
    return remembered(async (token) =>
      bounded((await jwtVerify(token, keys, { ...claims, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] })).payload),
    );
  }
  const secret = new TextEncoder().encode(config.AUTH_HS256_SECRET ?? '');
  return remembered(async (token) =>
    bounded((await jwtVerify(token, secret, { ...claims, algorithms: ['HS256'] })).payload),
  );
}

class TokenTooLong extends Error {
  constructor(readonly maxAge: number) {
    super(`the token lives longer than ${maxAge} s (AUTH_MAX_TOKEN_AGE_S)`);
  }
}

/**
 * Keeps verified tokens (bounded), so a client sending the same token again costs no signature
 * check; expiry is checked on every use, and since exp - iat is bounded, so is the age. Only
 * tokens that passed `verify` are ever kept.
 */
function remembered(verify: (token: string) => Promise<JWTPayload>): (token: string) => Promise<JWTPayload> {
  const verified = new Map<string, JWTPayload>();
  return async (token) => {
    const known = verified.get(token);
    if (known?.exp !== undefined && known.exp + CLOCK_TOLERANCE_S > Date.now() / 1000) return known;
    verified.delete(token);
    const payload = await verify(token);
    if (verified.size >= 10_000) verified.clear();
    verified.set(token, payload);
    return payload;
  };
}

function scopesOf(payload: JWTPayload): Set<string> {
  const scope = payload.scope;
  const scp = payload.scp;
  if (typeof scope === 'string') return new Set(scope.split(/\s+/).filter(Boolean));
  if (Array.isArray(scp)) return new Set(scp.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

function reason(err: unknown): string {
  if (err instanceof TokenTooLong) return err.message;
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `the token's '${err.claim}' claim is not accepted`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "the token's signature is invalid";
  return 'the token is invalid';
}

function unauthenticated(c: Parameters<MiddlewareHandler<ApiEnv>>[0], message: string): Response {
  c.header('www-authenticate', 'Bearer');
  return problemResponse(c, new AppError({ code: 'UNAUTHENTICATED', message, httpStatus: 401 }));
}

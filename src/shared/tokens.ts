import { SignJWT } from 'jose';

/** What `npm run token` mints unless asked otherwise: read-only, for an hour. */
export const DEFAULT_TOKEN = { scopes: ['workflows:read', 'runs:read'], ttl: '1h' } as const;

/**
 * Mints an HS256 token for local use (`npm run token`, the dev banner, tests). Its lifetime must
 * stay within the API's AUTH_MAX_TOKEN_AGE_S (a day by default).
 * @example await mintToken(secret, { tenant: 'acme', scopes: ['runs:read'], ttl: '1h' })
 */
export async function mintToken(
  secret: string,
  opts: {
    tenant: string;
    scopes: readonly string[];
    ttl?: string;
    audience?: string;
    issuer?: string;
    tenantClaim?: string;
    /** The token's `sub` (default `local:<tenant>`). */
    subject?: string;
  },
): Promise<string> {
  let jwt = new SignJWT({ [opts.tenantClaim ?? 'tenant']: opts.tenant, scope: opts.scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setSubject(opts.subject ?? `local:${opts.tenant}`)
    .setExpirationTime(opts.ttl ?? '12h');
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}

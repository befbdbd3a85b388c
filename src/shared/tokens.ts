import { SignJWT } from 'jose';

/**
 * Mints an HS256 token for local use (`npm run token`, the dev banner, tests).
 * @example await mintToken(secret, { tenant: 'acme', scopes: ['runs:read'], ttl: '1h' })
 */
export async function mintToken(secret: string, opts: { tenant: string; scopes: string[]; ttl?: string; audience?: string; issuer?: string; tenantClaim?: string }): Promise<string> {
  let jwt = new SignJWT({ [opts.tenantClaim ?? 'tenant']: opts.tenant, scope: opts.scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setSubject(`local:${opts.tenant}`)
    .setExpirationTime(opts.ttl ?? '30d');
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}

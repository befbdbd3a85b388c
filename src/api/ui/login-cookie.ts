import { createHash, randomBytes } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { PendingLogin } from './oidc.js';

/** How long a sign-in may take at the provider before the browser must start again. */
export const LOGIN_COOKIE_TTL_S = 600;

/**
 * Seals what a sign-in must remember across the provider's redirects (state, nonce, PKCE verifier)
 * into an encrypted, authenticated JWT (`dir` + A256GCM): the browser carries it but can neither
 * read nor forge it. Without a configured secret the key is random per process, so a sign-in only
 * completes on the replica that started it.
 *
 * @example
 * const seal = loginSeal(config.OIDC_COOKIE_SECRET);
 * const value = await seal.close(pending);
 * const again = await seal.open(value); // undefined if tampered with, sealed by another key, or expired
 */
export function loginSeal(secret: string | undefined) {
  const key = secret ? createHash('sha256').update(secret).digest() : randomBytes(32);
  return {
    close: (pending: PendingLogin): Promise<string> =>
      new EncryptJWT({ ...pending })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setIssuedAt()
        .setExpirationTime(`${LOGIN_COOKIE_TTL_S}s`)
        .encrypt(key),
    async open(value: string): Promise<PendingLogin | undefined> {
      try {
        const { payload } = await jwtDecrypt(value, key, {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
          maxTokenAge: LOGIN_COOKIE_TTL_S,
        });
        const { state, nonce, verifier, redirectUri } = payload;
        if (typeof state !== 'string' || typeof nonce !== 'string') return undefined;
        if (typeof verifier !== 'string' || typeof redirectUri !== 'string') return undefined;
        return { state, nonce, verifier, redirectUri };
      } catch {
        return undefined;
      }
    },
  };
}

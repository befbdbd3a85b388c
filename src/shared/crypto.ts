import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from './errors.js';

/**
 * AES-256-GCM with a key ring: `SECRETS_KEYS=k2:<base64 32 bytes>,k1:<...>` (or PAYLOAD_KEYS). The first key
 * encrypts; every key decrypts, so keys rotate by putting a new one first. A sealed value is
 * `<keyId>.<iv>.<tag>.<ciphertext>` (base64url), so each knows its key.
 * @example const ring = parseKeyRing('k1:' + randomBytes(32).toString('base64')); ring.open(ring.seal('x'))
 */
export interface KeyRing {
  currentKeyId: string;
  seal(plain: Buffer | string): string;
  open(sealed: string): Buffer;
  /**
   * A 32-byte key for another use (`purpose`), derived from ring key `keyId` by HKDF-SHA256, so
   * the ring's own keys never leave it; undefined for a key the ring does not hold.
   */
  derive(purpose: string, keyId?: string): Uint8Array | undefined;
}

export function parseKeyRing(spec: string, variable = 'SECRETS_KEYS'): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const entry of spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [id, material] = entry.split(':');
    const key = Buffer.from(material ?? '', 'base64');
    if (!id || key.length !== 32)
      throw new Error(`${variable}: '${id ?? entry}' needs a 32-byte base64 key as <id>:<key>`);
    keys.set(id, key);
  }
  const currentKeyId = [...keys.keys()][0];
  if (!currentKeyId) throw new Error(`${variable}: no key`);
  return {
    currentKeyId,
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keys.get(currentKeyId) ?? Buffer.alloc(32), iv);
      const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
      return [currentKeyId, iv, cipher.getAuthTag(), ct]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [id, iv, tag, ct] = sealed.split('.');
      const key = id ? keys.get(id) : undefined;
      if (!key || !iv || !tag || ct === undefined)
        throw new AppError({ code: 'KEY_UNAVAILABLE', message: `no key '${id}' to decrypt with`, retryable: false });
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
      } catch (cause) {
        // A wrong IV or tag length, or a failed authentication: tampered or not ours.
        throw new AppError({
          code: 'DECRYPTION_FAILED',
          message: 'the value could not be decrypted',
          retryable: false,
          cause,
        });
      }
    },
    derive(purpose, keyId = currentKeyId) {
      const key = keys.get(keyId);
      return key && new Uint8Array(hkdfSync('sha256', key, 'mini-zaps', purpose, 32));
    },
  };
}

/**
 * Two rings, never sharing a key: `ring` (SECRETS_KEYS) seals stored secrets and webhook signing
 * secrets; `payloadRing` (PAYLOAD_KEYS) encrypts Temporal payloads when ENCRYPT_PAYLOADS is on. The
 * codec endpoint decrypts with the payload ring only, so it can never open a stored secret.
 */
export function keyRings(config: {
  SECRETS_KEYS?: string | undefined;
  PAYLOAD_KEYS?: string | undefined;
  ENCRYPT_PAYLOADS: boolean;
}): { ring?: KeyRing; payloadRing?: KeyRing } {
  const ring = config.SECRETS_KEYS ? parseKeyRing(config.SECRETS_KEYS) : undefined;
  if (!config.ENCRYPT_PAYLOADS) return { ring };
  if (!config.PAYLOAD_KEYS)
    throw new Error('invalid configuration:\n  PAYLOAD_KEYS: required when ENCRYPT_PAYLOADS=true');
  const payloadRing = parseKeyRing(config.PAYLOAD_KEYS, 'PAYLOAD_KEYS');
  if (ring && sharesKey(config.SECRETS_KEYS ?? '', config.PAYLOAD_KEYS))
    throw new Error('invalid configuration:\n  PAYLOAD_KEYS: must not reuse a key of SECRETS_KEYS');
  return { ring, payloadRing };
}

function sharesKey(a: string, b: string): boolean {
  const material = (spec: string) =>
    new Set(
      spec
        .split(',')
        .map((e) => e.trim().split(':')[1])
        .filter(Boolean),
    );
  const left = material(a);
  return [...material(b)].some((k) => left.has(k));
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyRings, parseKeyRing } from './crypto.js';

const key = () => randomBytes(32).toString('base64');

describe('the key ring', () => {
  it('seals with the first key and opens with any key, so keys rotate', () => {
    const k1 = key();
    const old = parseKeyRing(`k1:${k1}`);
    const sealed = old.seal('hello');
    assert.ok(sealed.startsWith('k1.'));
    assert.ok(!sealed.includes('hello'));
    const rotated = parseKeyRing(`k2:${key()},k1:${k1}`);
    assert.equal(rotated.open(sealed).toString(), 'hello');
    assert.ok(rotated.seal('x').startsWith('k2.'));
  });

  it('refuses tampered values, unknown keys and bad key specs', () => {
    const ring = parseKeyRing(`k1:${key()}`);
    const sealed = ring.seal('hello');
    const parts = sealed.split('.');
    const tampered = [parts[0], parts[1], parts[2], Buffer.from('evil').toString('base64url')].join('.');
    assert.throws(() => ring.open(tampered));
    assert.throws(() => parseKeyRing(`k9:${key()}`).open(sealed));
    assert.throws(() => parseKeyRing('k1:short'), /32-byte/);
  });

  it('payloads get their own keys: PAYLOAD_KEYS is required with ENCRYPT_PAYLOADS and may not reuse a secrets key', () => {
    const secrets = `s1:${key()}`;
    const payloads = `p1:${key()}`;
    assert.equal(
      keyRings({ SECRETS_KEYS: secrets, ENCRYPT_PAYLOADS: false, PAYLOAD_KEYS: payloads }).payloadRing,
      undefined,
      'no payload ring unless encryption is on',
    );
    assert.throws(() => keyRings({ SECRETS_KEYS: secrets, ENCRYPT_PAYLOADS: true }), /PAYLOAD_KEYS: required/);
    assert.throws(
      () => keyRings({ SECRETS_KEYS: secrets, ENCRYPT_PAYLOADS: true, PAYLOAD_KEYS: `p2:${secrets.split(':')[1]}` }),
      /must not reuse/,
    );
    const { ring, payloadRing } = keyRings({ SECRETS_KEYS: secrets, ENCRYPT_PAYLOADS: true, PAYLOAD_KEYS: payloads });
    assert.equal(payloadRing?.currentKeyId, 'p1');
    assert.throws(
      () => payloadRing?.open(ring?.seal('stored secret') ?? ''),
      /no key 's1'/,
      'the payload ring cannot open a sealed secret',
    );
  });
});

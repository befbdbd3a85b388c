import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact, redactText } from './secrets.js';

const SECRET = 'Tok/en+s3cr3t?=&ü';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

describe('redaction of used secrets', () => {
  it('redacts a secret echoed raw, upper-, lower-cased, percent-, form-, hex- and base64-encoded (standard and url-safe)', () => {
    const echoes = [
      SECRET,
      SECRET.toUpperCase(),
      SECRET.toLowerCase(),
      encodeURIComponent(SECRET),
      encodeURIComponent(SECRET).toLowerCase(),
      new URLSearchParams({ q: SECRET }).toString().slice(2),
      [...Buffer.from(SECRET)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
      Buffer.from(SECRET).toString('hex'),
      b64(SECRET),
      b64url(SECRET),
    ];
    for (const echo of echoes) {
      const out = redactText(`before ${echo} after`, [SECRET]);
      assert.equal(out, 'before [redacted] after', `form ${echo}`);
    }
  });

  it('redacts a secret base64-encoded inside a longer value, at every byte alignment', () => {
    for (const prefix of ['', 'x', 'xy', 'xyz', '{"token":"']) {
      for (const encode of [b64, b64url]) {
        const encoded = encode(`${prefix}${SECRET} and more`);
        const out = redactText(encoded, [SECRET]);
        assert.ok(out.includes('[redacted]'), `prefix '${prefix}': ${out}`);
        // What is left around the marker decodes to at most the first and last few bits of the secret.
        const leftover = out.replace('[redacted]', '');
        assert.ok(
          encoded.length - leftover.length >= Math.floor((SECRET.length * 4) / 3) - 2,
          `prefix '${prefix}' left too much: ${out}`,
        );
      }
    }
  });

  it('redacts deeply in strings and keys of an output, including JSON-escaped secrets, and keeps clean values as they are', () => {
    const secret = 'a"b\\c\nd';
    const output = {
      status: 200,
      headers: { [`x-${secret}`]: 'v' },
      body: { list: [`got ${secret.toUpperCase()}`, 1, null], b64: b64(secret) },
    };
    assert.deepEqual(redact(output, [secret]), {
      status: 200,
      headers: { 'x-[redacted]': 'v' },
      body: { list: ['got [redacted]', 1, null], b64: '[redacted]' },
    });
    const clean = { body: 'nothing here' };
    assert.equal(redact(clean, [secret]), clean);
    assert.equal(redact(clean, []), clean);
  });

  it('does not redact short unrelated base64 fragments of a short secret', () => {
    assert.equal(redactText('YWJj and YW and abc', ['abc']), '[redacted] and YW and [redacted]');
  });

  it('stays linear: a 4 MiB output with several secrets is redacted quickly', () => {
    const secrets = ['first-secret-value', 'second/secret+value', 'third'];
    const chunk = 'lorem ipsum dolor sit amet '.repeat(1000);
    const big = `${chunk.repeat(150)}${b64url(secrets[1] ?? '')}${chunk}`;
    const started = performance.now();
    const out = redact({ body: big }, secrets);
    const ms = performance.now() - started;
    assert.ok(out.body.endsWith(`[redacted]${chunk}`));
    // Linear takes well under a second here; quadratic on 4 MiB would take hours. The bound allows a loaded machine.
    assert.ok(ms < 30_000, `took ${ms} ms`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaksIn } from '../helpers/history.js';

const SECRET = 'sk_"live"/Zx81+secret';
const payload = (data: string | Uint8Array) => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: typeof data === 'string' ? Buffer.from(data) : data,
});
const history = (...payloads: ReturnType<typeof payload>[]) => ({
  events: [{ activityTaskCompletedEventAttributes: { result: { payloads } } }],
});

describe('leaksIn: the search of a history for a secret', () => {
  it('finds a secret inside payload bytes, which JSON.stringify of the history never shows', () => {
    const leaky = history(payload(JSON.stringify({ token: SECRET })));
    assert.equal(JSON.stringify(leaky).includes(SECRET), false, 'the naive search misses it');
    assert.ok(leaksIn(leaky, SECRET).some((l) => l.startsWith('JSON-escaped in byte array')));
  });

  it('finds it raw, base64 and base64url inside payloads, and in plain fields (failure messages)', () => {
    const encoded = Buffer.from(SECRET).toString('base64');
    assert.ok(leaksIn(history(payload(new Uint8Array(Buffer.from(`x${SECRET}`)))), SECRET).length > 0);
    assert.ok(leaksIn(history(payload(JSON.stringify({ b: encoded }))), SECRET).length > 0);
    assert.ok(
      leaksIn(history(payload(JSON.stringify({ b: Buffer.from(SECRET).toString('base64url') }))), SECRET).length > 0,
    );
    assert.ok(leaksIn({ events: [{ failure: { message: `no such token ${SECRET}` } }] }, SECRET).length > 0);
    // The bytes themselves being the secret: base64 in the JSON form of the history.
    assert.ok(leaksIn(history(payload(SECRET)), SECRET).some((l) => l.startsWith('base64 in history as JSON')));
  });

  it('finds nothing in a history without the secret', () => {
    assert.deepEqual(leaksIn(history(payload(JSON.stringify({ token: '[redacted]' }))), SECRET), []);
  });
});

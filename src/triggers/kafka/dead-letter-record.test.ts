import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEAD_LETTER_BOUNDS, deadLetterRecord, storedBytes } from './dead-letter-record.js';

const source = (over: { value?: Buffer; headers?: Record<string, Buffer> } = {}) => ({
  tenantId: 't',
  triggerId: 'tr',
  topic: 'orders',
  partition: 0,
  reason: 'undecodable' as const,
  error: 'bad \u0000 byte',
  raw: {
    key: Buffer.from('k'),
    value: over.value ?? Buffer.from('not json {'),
    timestamp: '1700000000000',
    attributes: 0,
    offset: '3',
    headers: over.headers ?? { origin: Buffer.from('test') },
  },
});

test('UTF-8 bytes are kept as text, and bytes with NUL or that are not UTF-8 as base64 (PostgreSQL text refuses NUL)', () => {
  assert.deepEqual(storedBytes(Buffer.from('héllo'), 100), {
    text: 'héllo',
    encoding: 'utf8',
    bytes: 6,
    truncated: false,
  });
  assert.equal(storedBytes(Buffer.from([0x61, 0x00, 0x62]), 100).encoding, 'base64');
  assert.equal(storedBytes(Buffer.from([0xff, 0xfe]), 100).encoding, 'base64');
  assert.deepEqual(storedBytes(null, 100), { text: null, encoding: 'utf8', bytes: 0, truncated: false });
});

test('a value above the bound is cut there; a character the cut splits is dropped, the text stays text', () => {
  const cut = storedBytes(Buffer.from('aé'.repeat(10)), 4); // a=1 byte, é=2 bytes: the 4th byte starts an é
  assert.deepEqual(cut, { text: 'aéa', encoding: 'utf8', bytes: 30, truncated: true });
  const incomplete = storedBytes(Buffer.from([0x61, 0xc3]), 100); // whole, but ends inside a character
  assert.equal(incomplete.encoding, 'base64', 'a message that is not UTF-8 as a whole is not passed off as text');
});

test('a record is whole only when nothing was cut, and its error carries no NUL', () => {
  assert.equal(deadLetterRecord(source()).whole, true);
  assert.equal(deadLetterRecord(source()).error, 'bad \uFFFD byte');
  const big = deadLetterRecord(source({ value: Buffer.alloc(DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES + 1, 0x61) }));
  assert.equal(big.whole, false);
  assert.equal(big.value.text?.length, DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES);
  const many = Object.fromEntries(
    Array.from({ length: DEAD_LETTER_BOUNDS.MAX_HEADERS + 5 }, (_, i) => [`h${i}`, Buffer.from('v')]),
  );
  const crowded = deadLetterRecord(source({ headers: many }));
  assert.equal(crowded.headers.length, DEAD_LETTER_BOUNDS.MAX_HEADERS);
  assert.equal(crowded.whole, false);
});

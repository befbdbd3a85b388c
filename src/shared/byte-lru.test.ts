import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteLru } from './byte-lru.js';

test('a byte-bounded cache evicts the least recently used entries once its bytes pass the bound', () => {
  const cache = new ByteLru<string>(100);
  cache.set('a', 'A', 40);
  cache.set('b', 'B', 40);
  assert.equal(cache.get('a'), 'A'); // a is now the most recently used
  cache.set('c', 'C', 40);
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 'A');
  assert.equal(cache.get('c'), 'C');
  assert.equal(cache.bytes, 80);
});

test('a byte-bounded cache never keeps an entry larger than its whole budget', () => {
  const cache = new ByteLru<string>(100);
  cache.set('small', 's', 10);
  cache.set('huge', 'h', 101);
  assert.equal(cache.get('huge'), undefined);
  assert.equal(cache.get('small'), 's');
  for (let i = 0; i < 1000; i++) cache.set(`k${i}`, 'v', 7);
  assert.ok(cache.bytes <= 100);
  assert.equal(cache.size, 14);
});

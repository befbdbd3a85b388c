import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batched } from './batched.js';

test('items that arrive while a statement is in flight go together in the next one, at most `max` each', async () => {
  const statements: number[][] = [];
  let release: () => void = () => undefined;
  const write = batched(async (items: number[]) => {
    statements.push(items);
    // The first statement stays in flight until the other items have arrived.
    if (statements.length === 1) await new Promise<void>((r) => (release = r));
  }, 3);
  const first = write(0);
  const rest = [1, 2, 3, 4, 5].map((n) => write(n));
  release();
  await Promise.all([first, ...rest]);
  assert.deepEqual(statements, [[0], [1, 2, 3], [4, 5]]);
});

test('a failed statement is retried item by item, so only the bad item fails its caller', async () => {
  const statements: string[][] = [];
  let release: () => void = () => undefined;
  const write = batched(async (items: string[]) => {
    statements.push(items);
    if (statements.length === 1) await new Promise<void>((r) => (release = r));
    if (items.includes('bad')) throw new Error('bad item');
  });
  const first = write('first');
  const results = Promise.allSettled(['a', 'bad', 'b'].map((s) => write(s)));
  release();
  await first;
  assert.deepEqual(
    (await results).map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(statements, [['first'], ['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeJob } from './job.js';
import { CodeSandbox } from './sandbox.js';

const job = (source: string, maxMs = 1000): CodeJob => ({
  source,
  context: { trigger: { n: 2 } },
  input: 3,
  maxMs,
  maxOutputBytes: 1024 * 1024,
});

describe('the code sandbox', () => {
  const sandbox = new CodeSandbox(64, 1);

  it('sees no host: no require, process, timers, console, fetch or module loading', async () => {
    const answer = await sandbox.run(
      job(
        'return [typeof require, typeof process, typeof setTimeout, typeof console, typeof fetch, typeof globalThis.std];',
      ),
    );
    assert.deepEqual(answer, { ok: true, json: JSON.stringify(Array(6).fill('undefined')) });
    const imported = await sandbox.run(job('return import("node:fs");'));
    assert.equal(imported.ok, false);
    assert.match(imported.ok ? '' : imported.error.message, /not a promise/);
  });

  it('kills a thread stuck in one long native operation past its time limit, and serves the next call on a new one', async () => {
    const stuck = await sandbox.run(job('while (true) "x".repeat(1e6);', 100));
    assert.deepEqual(stuck.ok ? undefined : stuck.error, {
      code: 'CODE_LIMIT',
      limit: 'time',
      message: 'the code ran past its time limit',
    });
    assert.deepEqual(await sandbox.run(job('return input * ctx.trigger.n;')), { ok: true, json: '6' });
  });

  it('keeps no state from one call to the next', async () => {
    await sandbox.run(job('globalThis.leak = 1; Object.prototype.polluted = true; return null;'));
    assert.deepEqual(await sandbox.run(job('return [typeof leak, ({}).polluted ?? null];')), {
      ok: true,
      json: '["undefined",null]',
    });
  });
});

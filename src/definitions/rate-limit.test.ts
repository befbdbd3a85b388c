import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registry } from '../activities/registry.js';
import { validateDefinition as validateWith } from './validate.js';

const validateDefinition = (raw: unknown) => validateWith(raw, registry);

const withLimit = (rateLimit: unknown) =>
  validateDefinition({
    name: 'x',
    steps: [{ id: 'a', type: 'http', config: { url: 'https://example.com' }, rateLimit }],
  });
const refusedAt = (rateLimit: unknown) => {
  const result = withLimit(rateLimit);
  assert.equal(result.ok, false, `expected ${JSON.stringify(rateLimit)} to be refused`);
  return result.ok ? [] : result.problems.map((p) => p.pointer);
};

describe("a step's rateLimit", () => {
  it('takes a rate, a concurrency, or both', () => {
    assert.ok(withLimit({ perSecond: 5 }).ok);
    assert.ok(withLimit({ key: 'crm', concurrency: 3 }).ok);
    assert.ok(withLimit({ perMinute: 30, concurrency: 1000 }).ok);
  });

  it('refuses a concurrency that is not a whole number from 1 to 1000', () => {
    for (const concurrency of [0, -1, 2.5, 1001, '3'])
      assert.ok(
        refusedAt({ concurrency }).some((p) => p.startsWith('/steps/0/rateLimit')),
        `concurrency ${concurrency}`,
      );
  });

  it('refuses both perSecond and perMinute, and a limit that sets nothing', () => {
    assert.ok(
      refusedAt({ perSecond: 1, perMinute: 60, concurrency: 2 }).some((p) => p.startsWith('/steps/0/rateLimit')),
    );
    assert.ok(refusedAt({ key: 'crm' }).some((p) => p.startsWith('/steps/0/rateLimit')));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { AppError } from '../shared/errors.js';
import { evaluate, syntaxError } from './expressions/evaluate.js';
import { render } from './expressions/templates.js';
import { secretPlaceholder } from './expressions/secret-placeholders.js';
import { DEFAULT_EXPRESSION_LIMITS as limits } from '../shared/run-limits.js';
import { registry } from '../activities/registry.js';
import { validateDefinition as validateWith } from './validate.js';

const validateDefinition = (raw: unknown) => validateWith(raw, registry);

/** The expression fails with EXPRESSION_LIMIT naming `limit`. */
async function assertLimit(expression: string, limit: string, scope: unknown = {}): Promise<void> {
  await assert.rejects(evaluate(expression, scope, { limits }), (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, 'EXPRESSION_LIMIT', err.message);
    assert.equal(err.retryable, false);
    assert.match(err.message, new RegExp(`${limit} limit`));
    return true;
  });
}

describe('expression budgets', () => {
  it('an endless tail recursion runs out of evaluation steps', () =>
    assertLimit('($f := function($n){ $f($n + 1) }; $f(0))', 'steps'));
  it('deep non-tail recursion runs out of depth long before the stack', () =>
    assertLimit('($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000000))', 'depth'));
  it('a huge range is refused by the items budget', () =>
    assertLimit('$reduce([1..10000000], function($a, $b){ $a + $b })', 'items'));
  it('a string built past the budget is refused', () => assertLimit('$pad("x", 10000000)', 'stringLength'));
  it('doubling a string in a loop is refused before it grows without bound', () =>
    assertLimit(
      '($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("ab", 40)))',
      'stringLength',
    ));
  it('a mapped range that touches every item runs out of steps', () =>
    assertLimit('$sum([1..100000].($ * 2))', 'steps'));
  it('a result larger than the result budget is refused', () =>
    assertLimit('trigger.parts', 'resultBytes', {
      trigger: { parts: Array.from({ length: 100 }, () => 'x'.repeat(limits.resultBytes / 90)) },
    }));

  it('budgets count work, not time: the same evaluation always stops at the same step', async () => {
    const small = { ...limits, steps: 1000 };
    const messages = await Promise.all(
      [1, 2, 3].map(() =>
        evaluate('($f := function($n){ $f($n + 1) }; $f(0))', {}, { limits: small }).then(
          String,
          (err: Error) => err.message,
        ),
      ),
    );
    assert.equal(new Set(messages).size, 1);
    assert.match(messages[0] ?? '', /reached 1001/);
  });

  it('a failing expression says why in words, not [object Object]', async () => {
    await assert.rejects(evaluate('$number("x") + 1', {}, { limits }), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'EXPRESSION_ERROR');
      assert.doesNotMatch(err.message, /object Object/);
      assert.match(err.message, /Unable to cast value to a number/);
      return true;
    });
  });

  it('everyday expressions stay well within the budgets', async () => {
    assert.equal(await evaluate('$sum([1..1000])', {}, { limits }), 500500);
    assert.deepEqual(await evaluate('$map([1, 2], function($v){ { "v": $v } })', {}, { limits }), [{ v: 1 }, { v: 2 }]);
  });
});

describe('regular expressions run in linear time', () => {
  it('a catastrophically backtracking pattern answers at once', async () => {
    const started = process.hrtime.bigint();
    assert.equal(await evaluate(`$contains("${'a'.repeat(30_000)}!", /^(a+)+$/)`, {}, { limits }), false);
    // Backtracking would take longer than the age of the universe; linear matching a few ms.
    assert.ok(process.hrtime.bigint() - started < 5_000_000_000n);
  });

  it('match, replace, split and flags give what JavaScript regexes give', async () => {
    assert.deepEqual(await evaluate('$match("ab12cd345", /\\d+/).match', {}, { limits }), ['12', '345']);
    assert.equal(await evaluate('$replace("héllo wörld", /ö|é/, "_")', {}, { limits }), 'h_llo w_rld');
    assert.deepEqual(await evaluate('$split("a1b2c3", /\\d/)', {}, { limits }), ['a', 'b', 'c', '']);
    assert.equal(await evaluate('$contains("ABC", /b/i)', {}, { limits }), true);
    assert.deepEqual(await evaluate('$match("abab", /(a)(b)/).groups', {}, { limits }), ['a', 'b', 'a', 'b']);
  });

  it('patterns that cannot run in linear time are refused when a definition is saved', () => {
    assert.match(syntaxError('$match("aa", /(a)\\1/)') ?? '', /not supported/);
    const result = validateDefinition({
      name: 'x',
      steps: [{ id: 't', type: 'transform', config: { expression: '$contains(trigger.s, /(?=a)a/)' } }],
    });
    assert.equal(result.ok, false);
  });
});

describe('save-time bounds', () => {
  it('an expression longer than the limit is refused with its pointer', () => {
    const long = `1${' + 1'.repeat(5000)}`;
    const result = validateDefinition({
      name: 'x',
      steps: [{ id: 't', type: 'transform', config: { expression: long } }],
    });
    assert.ok(!result.ok);
    assert.equal(result.problems[0]?.pointer, '/steps/0/config/expression');
    assert.match(result.problems[0]?.message ?? '', /more than the limit of 16384/);
  });

  it('a definition larger than the limit is refused as a whole', () => {
    const result = validateDefinition({
      name: 'x',
      description: 'd'.repeat(1_100_000),
      steps: [{ id: 't', type: 'delay', config: { duration: '1s' } }],
    });
    assert.ok(!result.ok);
    assert.match(result.problems[0]?.message ?? '', /more than the limit/);
  });
});

describe('secret references', () => {
  it('carry the nonce of their render, so a reference copied from data never has it', async () => {
    const forged = secretPlaceholder('crm_token');
    const rendered = await render(
      { mine: "{{ $secret('crm_token') }}", theirs: '{{ trigger.email }}' },
      { trigger: { email: forged } },
      { limits, secretNonce: 'n-1' },
    );
    assert.deepEqual(rendered, { mine: secretPlaceholder('crm_token', 'n-1'), theirs: forged });
  });
});

describe('the parse cache', () => {
  it('stays bounded under a loop of distinct large expressions (heap growth measured)', async (t) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < 400; i++) {
      // ~3.9 KB each (kept by the cache, which holds 1,000,000 characters), then ~8 KB (never kept).
      const body = Array.from({ length: 300 }, (_, k) => `$x${k % 7}`).join(' & ');
      await evaluate(`($x0:="${i}";$x1:="a";$x2:="b";$x3:="c";$x4:="d";$x5:="e";$x6:="f"; ${body})`, {}, { limits });
      await evaluate(
        `($x0:="${i}";$x1:="a";$x2:="b";$x3:="c";$x4:="d";$x5:="e";$x6:="f"; ${body} & ${body})`,
        {},
        { limits },
      );
    }
    gc();
    const grown = getHeapStatistics().used_heap_size - before;
    // 800 distinct expressions parsed; the cache may hold about 250 of the shorter ones.
    t.diagnostic(`800 distinct expressions (3.9 and 8 KB): heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
    assert.ok(grown < 64 * 1024 * 1024, `heap grew by ${grown} bytes`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import jsonata from 'jsonata';
import { AppError } from '../shared/errors.js';
import { evaluate, render, syntaxError, templateExpressions } from './expressions.js';
import { toMillis } from './duration.js';

const scope = { trigger: { email: 'ada@example.com', n: 3, tags: ['a', 'b'] }, steps: { crm: { output: { body: { plan: 'pro' } } } } };

describe('expressions', () => {
  it('a string that is exactly {{ expr }} keeps the JSON type of the value', async () => {
    assert.equal(await render('{{ trigger.n }}', scope), 3);
    assert.deepEqual(await render('{{ trigger.tags }}', scope), ['a', 'b']);
    assert.deepEqual(await render(' {{ { "x": trigger.n * 2 } }} ', scope), { x: 6 });
  });

  it('a string with text around {{ }} interpolates', async () => {
    assert.equal(await render('Hi {{ trigger.email }}, plan {{ steps.crm.output.body.plan }}', scope), 'Hi ada@example.com, plan pro');
    assert.equal(await render('{{ trigger.n }} and {{ trigger.n + 1 }}', scope), '3 and 4');
    assert.equal(await render('missing: [{{ trigger.nothing }}]', scope), 'missing: []');
  });

  it('renders deeply and leaves plain values alone', async () => {
    assert.deepEqual(await render({ a: ['{{ trigger.n }}', 1, true, null], b: { c: 'plain' } }, scope), { a: [3, 1, true, null], b: { c: 'plain' } });
  });

  it('evaluates bare expressions; a missing value is null', async () => {
    assert.equal(await evaluate("steps.crm.output.body.plan = 'pro'", scope), true);
    assert.equal(await evaluate('trigger.nothing', scope), null);
  });

  it('a failing expression is an EXPRESSION_ERROR', async () => {
    await assert.rejects(evaluate('$number("x")', scope), (err: unknown) => err instanceof AppError && err.code === 'EXPRESSION_ERROR');
  });

  it('reports syntax errors and finds every template with its pointer', () => {
    assert.equal(syntaxError('1 + 2'), undefined);
    assert.match(syntaxError('1 +') ?? '', /.+/);
    assert.deepEqual(templateExpressions({ a: ['x {{ b }} {{ c }}'], 'd/e': '{{ f }}' }), [
      { pointer: '/a/0', expression: 'b' },
      { pointer: '/a/0', expression: 'c' },
      { pointer: '/d~1e', expression: 'f' },
    ]);
  });

  it('plain paths, read without JSONata, give what JSONata gives', async () => {
    const name = fc.constantFrom('a', 'b', 'n', 'and', 'true', 'x_1');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), fc.array(name, { minLength: 1, maxLength: 4 }), async (data, path) => {
        const expression = path.join('.');
        const expected: unknown = await Promise.resolve().then(() => jsonata(expression).evaluate(data)).then(
          (v: unknown) => JSON.parse(JSON.stringify(v) ?? 'null'),
          () => 'error',
        );
        const actual = await evaluate(expression, data).catch(() => 'error');
        assert.deepEqual(actual, expected, expression);
      }),
      { numRuns: 2000 },
    );
  });

  it('parses durations', () => {
    assert.equal(toMillis('250ms'), 250);
    assert.equal(toMillis('90s'), 90_000);
    assert.equal(toMillis('10m'), 600_000);
    assert.equal(toMillis('1d'), 86_400_000);
    assert.throws(() => toMillis('soon'), RangeError);
  });
});

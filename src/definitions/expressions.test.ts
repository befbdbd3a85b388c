import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import jsonata from 'jsonata';
import { AppError } from '../shared/errors.js';
import { evaluate, syntaxError } from './expressions/evaluate.js';
import { render, templateExpressions } from './expressions/templates.js';
import { toMillis } from './duration.js';

const scope = {
  trigger: { email: 'ada@example.com', n: 3, tags: ['a', 'b'] },
  steps: { crm: { output: { body: { plan: 'pro' } } } },
};

describe('expressions', () => {
  it('a string that is exactly {{ expr }} keeps the JSON type of the value', async () => {
    assert.equal(await render('{{ trigger.n }}', scope), 3);
    assert.deepEqual(await render('{{ trigger.tags }}', scope), ['a', 'b']);
    assert.deepEqual(await render(' {{ { "x": trigger.n * 2 } }} ', scope), { x: 6 });
  });

  it('a string with text around {{ }} interpolates', async () => {
    assert.equal(
      await render('Hi {{ trigger.email }}, plan {{ steps.crm.output.body.plan }}', scope),
      'Hi ada@example.com, plan pro',
    );
    assert.equal(await render('{{ trigger.n }} and {{ trigger.n + 1 }}', scope), '3 and 4');
    assert.equal(await render('missing: [{{ trigger.nothing }}]', scope), 'missing: []');
  });

  it('renders deeply and leaves plain values alone', async () => {
    assert.deepEqual(await render({ a: ['{{ trigger.n }}', 1, true, null], b: { c: 'plain' } }, scope), {
      a: [3, 1, true, null],
      b: { c: 'plain' },
    });
  });

  it('evaluates bare expressions; a missing value is null', async () => {
    assert.equal(await evaluate("steps.crm.output.body.plan = 'pro'", scope), true);
    assert.equal(await evaluate('trigger.nothing', scope), null);
  });

  it('a failing expression is an EXPRESSION_ERROR', async () => {
    await assert.rejects(
      evaluate('$number("x")', scope),
      (err: unknown) => err instanceof AppError && err.code === 'EXPRESSION_ERROR',
    );
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

  it('everyday expressions, evaluated without JSONata where they can be, give what JSONata gives', async () => {
    const name = fc.constantFrom('a', 'b', 'n', 's', 'and', 'x_1');
    const leaf = fc.oneof(
      fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => p.join('.')),
      fc.integer({ min: -5, max: 5 }).map(String),
      fc.constantFrom('0.5', '"a"', '"b"', '""', 'true', 'false', 'null'),
    );
    const { expression } = fc.letrec<{ expression: string }>((tie) => ({
      expression: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc
          .tuple(
            tie('expression'),
            fc.constantFrom('+', '-', '*', '/', '%', '<', '<=', '>', '>=', '=', '!=', 'and', 'or', '&'),
            tie('expression'),
          )
          .map(([l, op, r]) => `(${l} ${op} ${r})`),
        tie('expression').map((e) => `-(${e})`),
        fc.tuple(tie('expression'), tie('expression'), tie('expression')).map(([c, t, e]) => `(${c} ? ${t} : ${e})`),
        fc
          .array(fc.tuple(fc.constantFrom('k', 'v', 'w'), tie('expression')), { minLength: 1, maxLength: 3 })
          .map((pairs) => `{ ${pairs.map(([k, v]) => `"${k}": ${v}`).join(', ')} }`),
      ),
    }));
    const data = fc.dictionary(
      name,
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(name, fc.oneof(fc.integer(), fc.string(), fc.boolean()))),
      { maxKeys: 5 },
    );
    const viaJsonata = (e: string, d: unknown) =>
      Promise.resolve()
        .then(() => jsonata(e).evaluate(d))
        .then(
          (v: unknown) => JSON.parse(JSON.stringify(v) ?? 'null') as unknown,
          () => 'error',
        );
    await fc.assert(
      fc.asyncProperty(expression, data, async (e, d) => {
        assert.deepEqual(await evaluate(e, d).catch(() => 'error'), await viaJsonata(e, d), e);
      }),
      { numRuns: 3000 },
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

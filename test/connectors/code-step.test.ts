import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import type { Stack } from '../helpers/stack.js';
import { useStack } from '../helpers/use-stack.js';

/** Generous: a loaded machine must not fail these, yet a limit that never trips would. */
const BOUND_MS = 30_000;

/** Saves a one-step workflow running `source` and returns the ended run. */
async function runCode(stack: Stack, source: string, payload: unknown = {}, input?: unknown) {
  const id = await createWorkflow(stack, {
    name: 'code',
    steps: [
      {
        id: 'code',
        type: 'code',
        config: { language: 'javascript', source, ...(input === undefined ? {} : { input }) },
      },
    ],
  });
  return waitForEnd(stack, await trigger(stack, id, payload), 60_000);
}

describe('the code step', () => {
  // Memory enough to build a 100 MB string, so that case meets the result limit, not the memory one;
  // time enough to build it on a loaded machine.
  const suite = useStack({ env: { CODE_MAX_MEMORY_MB: '320', CODE_MAX_MS: '3000' } });

  it('runs the source with the run context and the rendered input; its return value is the output', async () => {
    const source = [
      '// "{{ a template }}" here is text: the source is taken as written',
      'const total = input.reduce((sum, i) => sum + i.price * i.qty, 0);',
      'return { total, who: ctx.trigger.customer, run: typeof ctx.run.id, note: "{{ not rendered }}" };',
    ].join('\n');
    const items = [
      { price: 3, qty: 2 },
      { price: 10, qty: 1 },
    ];
    const run = await runCode(suite.stack, source, { customer: 'ada', items }, '{{ trigger.items }}');
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.deepEqual(run.result, { total: 16, who: 'ada', run: 'string', note: '{{ not rendered }}' });
  });

  it('a thrown error fails the step with CODE_ERROR, its message and its line', async () => {
    const run = await runCode(suite.stack, 'const a = 1;\nconst b = a + 1;\nthrow new Error(`bad total ${b}`);');
    assert.equal(run.status, 'failed');
    assert.equal(run.error.code, 'CODE_ERROR');
    assert.match(run.error.message, /bad total 2/);
    assert.match(run.error.message, /line 3\b/);
    assert.equal(run.steps[0].error.details?.line, 3);
  });

  it('a syntax error is refused when the definition is saved (and by the check the console editor calls), with its pointer, line and column', async () => {
    const definition = {
      name: 'broken code',
      steps: [
        { id: 'code', type: 'code', config: { language: 'javascript', source: 'const a = 1;\nconst b = a +* 2;' } },
      ],
    };
    for (const path of ['/v1/workflows', '/v1/workflows/validate']) {
      const res = await suite.stack.call('POST', path, definition);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      const problems: { pointer: string; message: string }[] = res.body.errors;
      const problem = problems.find((p) => p.pointer === '/steps/0/config/source');
      assert.ok(problem, JSON.stringify(res.body));
      assert.match(problem.message, /SyntaxError/);
      assert.match(problem.message, /line 2, column \d+/);
    }
  });

  const breaches: [name: string, source: string, limit: string][] = [
    ['an endless loop', 'while (true) {}', 'time'],
    [
      'a 1 GB allocation loop',
      'const keep = [];\nfor (let i = 0; i < 1024; i++) keep.push(new Uint8Array(1024 * 1024));\nreturn keep.length;',
      'memory',
    ],
    ['deep recursion', 'function down(n) { return down(n + 1) + 1; }\nreturn down(0);', 'stack'],
    ['a 100 MB string result', 'let s = "x";\nwhile (s.length < 100 * 1024 * 1024) s += s;\nreturn s;', 'result'],
  ];
  for (const [name, source, limit] of breaches) {
    it(`${name} fails its own step with CODE_LIMIT (${limit}); the worker keeps serving`, async () => {
      const pid = process.pid;
      const started = Date.now();
      const run = await runCode(suite.stack, source);
      assert.equal(run.status, 'failed');
      assert.equal(run.error.code, 'CODE_LIMIT', run.error.message);
      assert.equal(run.steps[0].error.details?.limit, limit, run.error.message);
      assert.match(run.error.message, new RegExp(`${limit} limit`));
      assert.equal(run.steps[0].attempts, 1, 'a limit is not retried');
      assert.ok(Date.now() - started < 3000 + BOUND_MS, `ended within the limit and ${BOUND_MS} ms`);
      // The worker runs in this process: the same process answers the next run.
      assert.equal(process.pid, pid);
      const after = await runCode(suite.stack, 'return input * 2;', {}, 21);
      assert.equal(after.status, 'completed', JSON.stringify(after.error));
      assert.equal(after.result, 42);
    });
  }

  it('runs inside foreach over 1,000 items', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'code per item',
      steps: [
        {
          id: 'each',
          type: 'foreach',
          items: 'trigger.list',
          concurrency: 50,
          steps: [
            {
              id: 'square',
              type: 'code',
              config: {
                language: 'javascript',
                input: '{{ item }}',
                source: 'return { n: input, square: input * input, at: ctx.index };',
              },
            },
          ],
        },
      ],
    });
    const list = Array.from({ length: 1000 }, (_, i) => i);
    const run = await waitForEnd(suite.stack, await trigger(suite.stack, id, { list }), 300_000);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(run.result.length, 1000);
    assert.deepEqual(run.result[999], { n: 999, square: 998001, at: 999 });
    assert.ok(run.result.every((r: { n: number; square: number }, i: number) => r.n === i && r.square === i * i));
  });

  it('POST /v1/steps/test runs a code step against the context given', async () => {
    const res = await suite.stack.call('POST', '/v1/steps/test', {
      step: {
        id: 'c',
        type: 'code',
        config: { language: 'javascript', input: '{{ trigger.n }}', source: 'return input + ctx.trigger.n;' },
      },
      context: { trigger: { n: 4 } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.output, 8);
    const thrown = await suite.stack.call('POST', '/v1/steps/test', {
      step: { id: 'c', type: 'code', config: { language: 'javascript', source: 'throw new TypeError("nope")' } },
      context: {},
    });
    assert.equal(thrown.body.error.code, 'CODE_ERROR');
  });
});

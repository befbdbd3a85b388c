import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registry } from '../activities/registry.js';
import { validateDefinition as validateWith } from './validate.js';

const validateDefinition = (raw: unknown) => validateWith(raw, registry);

const problemsOf = (raw: unknown) => {
  const result = validateDefinition(raw);
  assert.equal(result.ok, false, 'expected the definition to be refused');
  return result.ok ? [] : result.problems;
};
const pointers = (raw: unknown) => problemsOf(raw).map((p) => p.pointer);

describe('validateDefinition', () => {
  it('accepts the linear example and keeps it as written', () => {
    const def = {
      name: 'ok',
      steps: [
        { id: 'a', type: 'delay', config: { duration: '10m' } },
        { id: 'b', type: 'transform', config: { expression: '1 + 1' } },
      ],
    };
    const result = validateDefinition(def);
    assert.ok(result.ok);
    assert.deepEqual(result.definition, def);
  });

  it('refuses what is not an object, and a definition without steps', () => {
    assert.deepEqual(pointers('nope'), ['']);
    assert.deepEqual(pointers({ name: 'x', steps: [] }), ['/steps']);
    assert.ok(pointers({ steps: [{ id: 'a', type: 'succeed' }] }).includes('/name'));
  });

  it('names an unknown step type and lists the known ones', () => {
    const [problem] = problemsOf({ name: 'x', steps: [{ id: 'a', type: 'teleport' }] });
    assert.equal(problem?.pointer, '/steps/0/type');
    assert.match(problem?.message ?? '', /unknown step type 'teleport'.*http/);
  });

  it('refuses unknown fields (a typo is not silently ignored)', () => {
    assert.ok(
      pointers({ name: 'x', steps: [{ id: 'a', type: 'succeed', retyr: {} }] }).some((p) => p.startsWith('/steps/0')),
    );
  });

  it('takes `local` on connector steps only, as a boolean', () => {
    const call = { id: 'a', type: 'http', config: { url: 'https://example.com' } };
    assert.ok(validateDefinition({ name: 'x', steps: [{ ...call, local: false }] }).ok);
    assert.deepEqual(pointers({ name: 'x', steps: [{ ...call, local: 'yes' }] }), ['/steps/0/local']);
    assert.ok(
      pointers({ name: 'x', steps: [{ id: 'b', type: 'delay', config: { duration: '1s' }, local: true }] }).some((p) =>
        p.startsWith('/steps/0'),
      ),
    );
  });

  it('refuses bad step ids and duplicate ids', () => {
    assert.ok(pointers({ name: 'x', steps: [{ id: 'Bad Id', type: 'succeed' }] }).includes('/steps/0/id'));
    assert.deepEqual(
      pointers({
        name: 'x',
        steps: [
          { id: 'a', type: 'transform', config: { expression: '1' } },
          { id: 'a', type: 'succeed' },
        ],
      }),
      ['/steps/1/id'],
    );
  });

  it('refuses next and onError that point at no step', () => {
    const p = pointers({
      name: 'x',
      steps: [{ id: 'a', type: 'transform', config: { expression: '1' }, next: 'zzz', onError: 'yyy' }],
    });
    assert.deepEqual(p.sort(), ['/steps/0/next', '/steps/0/onError']);
  });

  it('refuses steps that can never be reached', () => {
    const p = pointers({
      name: 'x',
      steps: [
        { id: 'a', type: 'succeed' },
        { id: 'b', type: 'transform', config: { expression: '1' } },
      ],
    });
    assert.deepEqual(p, ['/steps/1']);
  });

  it('refuses expression syntax errors in bare expressions and in {{ }} templates', () => {
    const p = pointers({
      name: 'x',
      steps: [
        { id: 'a', type: 'transform', config: { expression: '1 +' }, when: 'trigger.(' },
        { id: 'b', type: 'http', config: { url: 'https://example.com/{{ trigger.[ }}', headers: { x: '{{ ) }}' } } },
      ],
    });
    assert.deepEqual(p.sort(), [
      '/steps/0/config/expression',
      '/steps/0/when',
      '/steps/1/config/headers/x',
      '/steps/1/config/url',
    ]);
  });

  it('checks connector config with the connector schema but lets {{ }} stand where the type is only known at run time', () => {
    assert.ok(
      validateDefinition({
        name: 'x',
        steps: [{ id: 'a', type: 'http', config: { url: '{{ trigger.url }}', expectStatus: '{{ [200] }}' } }],
      }).ok,
    );
    const p = pointers({
      name: 'x',
      steps: [{ id: 'a', type: 'webhook', config: { method: 'FETCH', url: 'ftp://x', extra: 1 } }],
    });
    assert.deepEqual(p.sort(), ['/steps/0/config', '/steps/0/config/method', '/steps/0/config/url']);
  });

  it('refuses bad delays and bad retry policies', () => {
    const p = pointers({
      name: 'x',
      steps: [
        { id: 'a', type: 'delay', config: { duration: 'soon' } },
        { id: 'b', type: 'delay', config: { until: 'tomorrow-ish' } },
        {
          id: 'c',
          type: 'http',
          config: { url: 'https://example.com' },
          retry: { maxAttempts: 0, initialInterval: 'fast' },
        },
      ],
    });
    assert.deepEqual(p.sort(), [
      '/steps/0/config/duration',
      '/steps/1/config/until',
      '/steps/2/retry/initialInterval',
      '/steps/2/retry/maxAttempts',
    ]);
  });

  it('reports every problem at once', () => {
    const p = problemsOf({
      name: '',
      steps: [
        { id: 'a', type: 'http', config: { method: 'FETCH', url: 'nope' } },
        { id: 'a', type: 'transform', config: { expression: '(' } },
        { id: 'c', type: 'teleport' },
      ],
    });
    assert.ok(p.length >= 5, JSON.stringify(p));
  });
});

describe('validateDefinition for nested blocks and routes', () => {
  const branchy = (
    branchStep: Record<string, unknown>,
    after: Record<string, unknown> = { id: 'after', type: 'succeed' },
  ) => ({
    name: 'x',
    steps: [
      {
        id: 'fan',
        type: 'parallel',
        branches: [[branchStep], [{ id: 'other', type: 'transform', config: { expression: '1' } }]],
      },
      after,
    ],
  });

  it('accepts parallel, foreach, choice, wait_for_event and subworkflow in combination', () => {
    const result = validateDefinition({
      name: 'all of it',
      steps: [
        { id: 'route', type: 'choice', cases: [{ when: 'trigger.go', next: 'fan' }], default: 'done' },
        {
          id: 'fan',
          type: 'parallel',
          failFast: false,
          branches: [
            [
              {
                id: 'each',
                type: 'foreach',
                items: 'trigger.list',
                concurrency: 5,
                steps: [{ id: 'double', type: 'transform', config: { expression: 'item * 2' } }],
              },
            ],
            [
              { id: 'ask', type: 'wait_for_event', config: { name: 'ok', timeout: '1h' }, onTimeout: 'late' },
              { id: 'late', type: 'succeed' },
            ],
          ],
        },
        { id: 'child', type: 'subworkflow', config: { workflowId: 'abc', input: { n: '{{ trigger.n }}' } } },
        { id: 'done', type: 'succeed' },
      ],
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  });

  it('finds duplicate ids across nested blocks', () => {
    assert.deepEqual(pointers(branchy({ id: 'after', type: 'transform', config: { expression: '1' } })), [
      '/steps/1/id',
    ]);
  });

  it('refuses next out of a branch and into a branch', () => {
    assert.deepEqual(
      pointers(branchy({ id: 'inner', type: 'transform', config: { expression: '1' }, next: 'after' })),
      ['/steps/0/branches/0/0/next'],
    );
    assert.deepEqual(
      pointers(
        branchy(
          { id: 'inner', type: 'transform', config: { expression: '1' } },
          { id: 'after', type: 'transform', config: { expression: '1' }, next: 'inner' },
        ),
      ),
      ['/steps/1/next'],
    );
  });

  it('refuses choice cases and defaults that point at no step, and an unknown onTimeout', () => {
    const p = pointers({
      name: 'x',
      steps: [
        { id: 'route', type: 'choice', cases: [{ when: 'true', next: 'nope' }], default: 'nada' },
        { id: 'ask', type: 'wait_for_event', config: { name: 'e' }, onTimeout: 'never' },
      ],
    });
    assert.deepEqual(p.sort(), ['/steps/0/cases/0/next', '/steps/0/default', '/steps/1', '/steps/1/onTimeout']);
  });

  it('refuses unreachable steps inside a branch', () => {
    const p = pointers({
      name: 'x',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          branches: [
            [
              { id: 'a', type: 'succeed' },
              { id: 'b', type: 'succeed' },
            ],
          ],
        },
      ],
    });
    assert.deepEqual(p, ['/steps/0/branches/0/1']);
  });

  it('refuses a loop with no way out, and accepts one a choice can leave', () => {
    const stuck = problemsOf({
      name: 'x',
      steps: [
        { id: 'a', type: 'transform', config: { expression: '1' } },
        { id: 'b', type: 'delay', config: { duration: '1s' }, next: 'a' },
      ],
    });
    assert.equal(stuck.length, 1);
    assert.match(stuck[0]?.message ?? '', /loop a → b has no way out/);
    const bounded = validateDefinition({
      name: 'x',
      steps: [
        { id: 'a', type: 'transform', config: { expression: '1' } },
        { id: 'b', type: 'choice', cases: [{ when: 'steps.a.output > 3', next: 'c' }], default: 'a' },
        { id: 'c', type: 'succeed' },
      ],
    });
    assert.ok(bounded.ok);
  });

  it('names an unknown step type inside a nested block', () => {
    const [problem] = problemsOf({
      name: 'x',
      steps: [{ id: 'each', type: 'foreach', items: '[1,2]', steps: [{ id: 'z', type: 'teleport' }] }],
    });
    assert.equal(problem?.pointer, '/steps/0/steps/0/type');
    assert.match(problem?.message ?? '', /unknown step type 'teleport'/);
  });

  it('checks the syntax of items, cases and nested expressions', () => {
    const p = pointers({
      name: 'x',
      steps: [
        { id: 'route', type: 'choice', cases: [{ when: 'a = (', next: 'each' }], default: 'each' },
        {
          id: 'each',
          type: 'foreach',
          items: '[1,',
          steps: [{ id: 'z', type: 'transform', config: { expression: '$$$(' } }],
        },
      ],
    });
    assert.deepEqual(p.sort(), ['/steps/0/cases/0/when', '/steps/1/items', '/steps/1/steps/0/config/expression']);
  });

  it('refuses empty branches and bad event names', () => {
    assert.ok(
      pointers({ name: 'x', steps: [{ id: 'fan', type: 'parallel', branches: [[]] }] }).includes('/steps/0/branches/0'),
    );
    assert.ok(
      pointers({ name: 'x', steps: [{ id: 'w', type: 'wait_for_event', config: { name: 'has space' } }] }).includes(
        '/steps/0/config/name',
      ),
    );
  });

  it('refuses a templated sql query, pointing to params; templates in params are fine', () => {
    const sql = (config: Record<string, unknown>) => ({
      name: 'x',
      steps: [{ id: 'q', type: 'sql', connection: 'crm', config }],
    });
    const [problem, ...more] = problemsOf(sql({ query: "SELECT * FROM users WHERE email = '{{ trigger.email }}'" }));
    assert.equal(problem?.pointer, '/steps/0/config/query');
    assert.match(problem?.message ?? '', /params/);
    assert.deepEqual(more, []);
    assert.deepEqual(pointers(sql({ query: "SELECT {{ $secret('x') }}" })), ['/steps/0/config/query']);
    assert.ok(
      validateDefinition(sql({ query: 'SELECT * FROM users WHERE email = $1', params: ['{{ trigger.email }}'] })).ok,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateDefinition } from './validate.js';

const problemsOf = (raw: unknown) => {
  const result = validateDefinition(raw);
  assert.equal(result.ok, false, 'expected the definition to be refused');
  return result.ok ? [] : result.problems;
};
const pointers = (raw: unknown) => problemsOf(raw).map((p) => p.pointer);

describe('validateDefinition', () => {
  it('accepts the linear example and keeps it as written', () => {
    const def = { name: 'ok', steps: [{ id: 'a', type: 'delay', config: { duration: '10m' } }, { id: 'b', type: 'transform', config: { expression: '1 + 1' } }] };
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
    assert.ok(pointers({ name: 'x', steps: [{ id: 'a', type: 'succeed', retyr: {} }] }).some((p) => p.startsWith('/steps/0')));
  });

  it('refuses bad step ids and duplicate ids', () => {
    assert.ok(pointers({ name: 'x', steps: [{ id: 'Bad Id', type: 'succeed' }] }).includes('/steps/0/id'));
    assert.deepEqual(pointers({ name: 'x', steps: [{ id: 'a', type: 'transform', config: { expression: '1' } }, { id: 'a', type: 'succeed' }] }), ['/steps/1/id']);
  });

  it('refuses next and onError that point at no step', () => {
    const p = pointers({ name: 'x', steps: [{ id: 'a', type: 'transform', config: { expression: '1' }, next: 'zzz', onError: 'yyy' }] });
    assert.deepEqual(p.sort(), ['/steps/0/next', '/steps/0/onError']);
  });

  it('refuses steps that can never be reached', () => {
    const p = pointers({ name: 'x', steps: [{ id: 'a', type: 'succeed' }, { id: 'b', type: 'transform', config: { expression: '1' } }] });
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
    assert.deepEqual(p.sort(), ['/steps/0/config/expression', '/steps/0/when', '/steps/1/config/headers/x', '/steps/1/config/url']);
  });

  it('checks connector config with the connector schema but lets {{ }} stand where the type is only known at run time', () => {
    assert.ok(validateDefinition({ name: 'x', steps: [{ id: 'a', type: 'http', config: { url: '{{ trigger.url }}', expectStatus: '{{ [200] }}' } }] }).ok);
    const p = pointers({ name: 'x', steps: [{ id: 'a', type: 'webhook', config: { method: 'FETCH', url: 'ftp://x', extra: 1 } }] });
    assert.deepEqual(p.sort(), ['/steps/0/config', '/steps/0/config/method', '/steps/0/config/url']);
  });

  it('refuses bad delays and bad retry policies', () => {
    const p = pointers({
      name: 'x',
      steps: [
        { id: 'a', type: 'delay', config: { duration: 'soon' } },
        { id: 'b', type: 'delay', config: { until: 'tomorrow-ish' } },
        { id: 'c', type: 'http', config: { url: 'https://example.com' }, retry: { maxAttempts: 0, initialInterval: 'fast' } },
      ],
    });
    assert.deepEqual(p.sort(), ['/steps/0/config/duration', '/steps/1/config/until', '/steps/2/retry/initialInterval', '/steps/2/retry/maxAttempts']);
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

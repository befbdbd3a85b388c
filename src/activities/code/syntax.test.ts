import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registry } from '../registry.js';
import { validateDefinition as validateWith } from '../../definitions/validate.js';
import { syntaxProblem } from './syntax.js';

const validateDefinition = (raw: unknown) => validateWith(raw, registry);

const codeStep = (source: string) => ({
  name: 'code',
  steps: [{ id: 'code', type: 'code', config: { language: 'javascript', source, input: '{{ trigger.x }}' } }],
});

describe('code step syntax at save time', () => {
  it('names the line and column of a syntax error, and passes a body that returns', () => {
    assert.equal(syntaxProblem('const a = 1;\nreturn a;'), undefined);
    assert.equal(syntaxProblem('const a = 1;\n  a b'), "SyntaxError: Unexpected identifier 'b' at line 2, column 5");
  });

  it('compiles the source as a function body: it cannot close the function and run code beside it', () => {
    assert.match(syntaxProblem('}); while (true) {} (function () {') ?? '', /SyntaxError/);
  });

  it('refuses source nested too deeply to compile, without failing the process', () => {
    assert.match(syntaxProblem('('.repeat(200_000)) ?? '', /too deeply|SyntaxError/);
  });

  it('takes the source as written: {{ }} in it is text, and a syntax error beside one is still found', () => {
    assert.deepEqual(validateDefinition(codeStep('return "{{ $not jsonata ( }}";')).ok, true);
    const broken = validateDefinition(codeStep('const t = "{{ a }}";\nreturn t +* 1;'));
    assert.equal(broken.ok, false);
    const problems = broken.ok ? [] : broken.problems;
    assert.deepEqual(
      problems.map((p) => p.pointer),
      ['/steps/0/config/source'],
    );
    assert.match(problems[0]?.message ?? '', /line 2, column \d+/);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'htmlparser2';
import { findAll, getAttributeValue, textContent } from 'domutils';
import { mz } from './mz.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** JUnit XML read back: every testcase with its failure text, and the totals the root states. */
function readJunit(xml: string) {
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites /);
  const doc = parseDocument(xml, { xmlMode: true });
  const [root] = findAll((e) => e.name === 'testsuites', doc.children);
  assert.ok(root, 'a testsuites root');
  const cases = findAll((e) => e.name === 'testcase', doc.children).map((c) => {
    const failure = findAll((e) => e.name === 'failure', c.children)[0];
    return { name: getAttributeValue(c, 'name'), failure: failure ? textContent(failure) : undefined };
  });
  return {
    tests: Number(getAttributeValue(root, 'tests')),
    failures: Number(getAttributeValue(root, 'failures')),
    cases,
  };
}

/**
 * `mz test`, run as the package's bin: the examples' tests on Temporal's time-skipping test
 * server through the real interpreter, no API server.
 */
describe('mz test (the bin, time-skipping test server, no API)', () => {
  let dir: string;
  const env = () => ({ HOME: dir });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mz-test-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('runs the examples’ tests (a 7-day delay, a 503 retried three times, events, timeouts) and writes valid JUnit XML', async () => {
    const junit = join(dir, 'junit.xml');
    const started = Date.now();
    const run = await mz(['test', EXAMPLES, '--junit', junit], env());
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /✓ .*hello-retries\.test\.yaml › hello-retries/);
    assert.match(run.stdout, /✓ .*the reminder goes out after seven days/);
    assert.match(run.stdout, /^8 passed, 0 failed, 8 total \(/m);
    // Seven days and a day's approval timeout passed on the test server's clock, not on ours.
    assert.ok(Date.now() - started < 600_000);
    const report = readJunit(await readFile(junit, 'utf8'));
    assert.equal(report.tests, 8);
    assert.equal(report.failures, 0);
    assert.equal(report.cases.length, 8);
    assert.ok(report.cases.every((c) => c.failure === undefined));
  });

  it('a wrong expectation fails with a readable diff, exit 1, and the failure in the JUnit XML', async () => {
    const file = join(dir, 'wrong.test.yaml');
    await writeFile(
      file,
      [
        `definition: ${join(EXAMPLES, 'hello.json')}`,
        'trigger: { name: Ada }',
        'mocks:',
        '  ping: { output: { status: 200, body: { status: ok } } }',
        'expect:',
        '  status: completed',
        '  output: { greeting: "Hello, Bob!", apiStatus: ok }',
        '  steps: { ping: { attempts: 2 } }',
        '  notRan: [greet]',
      ].join('\n'),
    );
    const junit = join(dir, 'wrong.xml');
    const run = await mz(['test', file, '--junit', junit], env());
    assert.equal(run.code, 1);
    assert.match(run.stdout, /✗ .*wrong\.test\.yaml › wrong/);
    assert.match(run.stdout, /output: expected .*"Hello, Bob!".*got .*"Hello, Ada!"/);
    assert.match(run.stdout, /~ \/greeting: "Hello, Ada!" → "Hello, Bob!"/);
    assert.match(run.stdout, /step ping attempts: expected 2, got 1/);
    assert.match(run.stdout, /step greet: expected it not to run, it ran/);
    assert.match(run.stdout, /^0 passed, 1 failed, 1 total/m);
    const report = readJunit(await readFile(junit, 'utf8'));
    assert.equal(report.failures, 1);
    assert.match(report.cases[0]?.failure ?? '', /Hello, Bob!/);
  });

  it('refuses mocks that do not fit: an output the http step cannot return, a step that does not exist, a step left unmocked', async () => {
    const file = join(dir, 'mocks.test.yaml');
    const definition = join(EXAMPLES, 'hello.json');
    await writeFile(
      file,
      [
        `definition: ${definition}`,
        'cases:',
        '  - name: a status that is not HTTP',
        '    mocks: { ping: { output: { status: 999, body: {} } } }',
        '    expect: { status: completed }',
        '  - name: a step that is not there',
        '    mocks: { pong: { output: {} } }',
        '    expect: { status: completed }',
        '  - name: no mock',
        '    expect: { status: failed, error: { code: MOCK_MISSING } }',
      ].join('\n'),
    );
    const run = await mz(['test', file], env());
    assert.equal(run.code, 1);
    assert.match(run.stdout, /mocks\.ping\.output is not what a http step returns: status/);
    assert.match(run.stdout, /mocks\.pong: the definition has no step 'pong'/);
    assert.match(run.stdout, /✓ .*no mock/);
    assert.match(run.stdout, /^1 passed, 2 failed, 3 total/m);
  });

  it('refuses test files it cannot read, each as a failed case, and a folder without tests (exit 2)', async () => {
    const file = join(dir, 'broken.test.yaml');
    await writeFile(file, 'definition: { name: x, steps: [{ id: a, type: nope }] }\nexpect: { status: completed }\n');
    const run = await mz(['test', file], env());
    assert.equal(run.code, 1);
    assert.match(run.stdout, /✗ .*broken/);
    assert.match(run.stdout, /definition \/steps\/0/);
    const empty = await mkdtemp(join(dir, 'empty-'));
    assert.equal((await mz(['test', empty], env())).code, 2);
  });
});

import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { json, mz, useCliStack } from './mz.js';

/** `mz runs`, `dead-letters`, `triggers` and `login`, run as the package's bin against the engine over real HTTP. */
describe('mz dead-letters, triggers and login, and its errors (the bin, over HTTP, real stack)', () => {
  const { suite, cli, as, create, start } = useCliStack();

  it('dead-letters ls shows a parked step and redrive runs it again: the run completes', async () => {
    const { env } = cli;
    let down = true;
    suite.receiver.on('/flaky', () => (down ? { status: 500, body: { down } } : { status: 200, body: { ok: true } }));
    const wf = await create({
      name: 'parks',
      steps: [{ id: 'call', type: 'http', config: { url: `${suite.receiver.url}/flaky` }, retry: { maxAttempts: 1 } }],
    });
    const runId = await start(wf);
    const letters = await waitFor('the dead letter', async () => {
      const items = json<{ id: string; runId: string; stepId: string }[]>(
        await mz(['--json', 'dead-letters', 'ls', '-w', wf], env),
      );
      return items.length ? items : undefined;
    });
    assert.equal(letters[0]?.runId, runId);
    assert.equal(letters[0]?.stepId, 'call');
    assert.match((await mz(['dead-letters', 'ls'], env)).stdout, /HTTP_500/);
    down = false;
    const redriven = await mz(['dead-letters', 'redrive', letters[0]?.id ?? ''], env);
    assert.equal(redriven.code, 0, redriven.stderr);
    const tail = await mz(['runs', 'tail', runId, '--timeout', '120'], env);
    assert.equal(tail.code, 0, tail.stdout + tail.stderr);
    const twice = await mz(['dead-letters', 'redrive', letters[0]?.id ?? ''], env);
    assert.equal(twice.code, 1, 'a resolved dead letter is refused');
    assert.match(twice.stderr, /HTTP 409/);
  });

  it('triggers ls, pause, resume and run: a fired schedule starts a run', async () => {
    const { env } = cli;
    const wf = await create({
      name: 'scheduled',
      steps: [{ id: 'a', type: 'transform', config: { expression: '1' } }],
    });
    const made = await as('POST', `/v1/workflows/${wf}/triggers`, { type: 'schedule', cron: '0 0 1 1 *' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id: string = made.body.id;
    const listed = json<{ id: string; paused: boolean }[]>(await mz(['--json', 'triggers', 'ls'], env));
    assert.deepEqual(
      listed.filter((t) => t.id === id).map((t) => t.paused),
      [false],
    );
    const paused = json<{ paused: boolean }>(await mz(['--json', 'triggers', 'pause', id], env));
    assert.equal(paused.paused, true);
    assert.match((await mz(['triggers', 'ls', '-w', wf], env)).stdout, /0 0 1 1 \*\s+true/);
    assert.equal(json<{ paused: boolean }>(await mz(['--json', 'triggers', 'resume', id], env)).paused, false);
    const fired = await mz(['triggers', 'run', id], env);
    assert.equal(fired.code, 0, fired.stderr);
    await waitFor('the fired run', async () => {
      const runs = json<{ id: string }[]>(await mz(['--json', 'runs', 'ls', '-w', wf], env));
      return runs.length ? runs : undefined;
    });
  });

  it('login checks a pasted token and stores it in a profile only its owner reads; later commands use it', async () => {
    const { dir, url, token } = cli;
    const home = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'login-config') };
    const refused = await mz(['login', '--url', url], home, { input: 'not-a-valid.jwt.token\n' });
    assert.equal(refused.code, 4, 'a token the API refuses: exit 4');
    assert.match(refused.stderr, /HTTP 401/);
    await assert.rejects(stat(join(dir, 'login-config', 'mz', 'config.json')), 'nothing stored');
    const logged = await mz(['login', '--url', url], home, { input: `${token}\n` });
    assert.equal(logged.code, 0, logged.stderr);
    const path = join(dir, 'login-config', 'mz', 'config.json');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
      current: 'default',
      profiles: { default: { url, token } },
    });
    const listed = await mz(['runs', 'ls'], home);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+WORKFLOW/);
    const missing = await mz(['--profile', 'staging', 'runs', 'ls'], home);
    assert.equal(missing.code, 2);
    await writeFile(path, '{not json');
    assert.equal((await mz(['runs', 'ls'], home)).code, 2, 'a broken config file is a usage error');
  });

  it('shows problems readably with meaningful exit codes: 1 refused, 2 usage, 3 unreachable, 4 no token', async () => {
    const { env } = cli;
    const missing = await mz(['runs', 'get', 'no-such-run'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .*\(HTTP 404 NOT_FOUND\)/);
    assert.equal((await mz(['runs', 'ls', '--status', 'sleeping'], env)).code, 2);
    assert.equal((await mz(['runs', 'ls', '--limit', '0'], env)).code, 2);
    assert.equal((await mz(['nonsense'], env)).code, 2);
    const down = await mz(['runs', 'ls'], { ...env, MZ_URL: 'http://127.0.0.1:9' });
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
    const anonymous = await mz(['runs', 'ls'], { ...env, MZ_TOKEN: '' });
    assert.equal(anonymous.code, 4);
    assert.equal((await mz(['runs', 'ls', '--url', 'ftp://x'], env)).code, 2);
  });
});

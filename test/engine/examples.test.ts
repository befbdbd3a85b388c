import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { serveHttp } from '../helpers/browser.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { startStack, type Stack } from '../helpers/stack.js';

const EXAMPLES = new URL('../../examples/', import.meta.url);

interface StepView {
  id: string;
  status: string;
  output: unknown;
  children?: { steps: StepView[] }[];
}

/**
 * How each example is run on `npm run dev`: the trigger payload, the events it waits for, and
 * what shows it took its happy path. A new example must be added here, or this test fails.
 */
const HAPPY_PATHS: Record<
  string,
  {
    input: unknown;
    events?: Record<string, unknown>;
    /** What the example needs beforehand (connections, secrets); `apiUrl`: where /dev/echo answers. */
    setup?: (stack: Stack, apiUrl: string) => Promise<void>;
    expect: (steps: Map<string, StepView>, result: unknown) => void | Promise<void>;
  }
> = {
  'hello.json': {
    input: { name: 'Ada' },
    expect: (_, result) => assert.deepEqual(result, { greeting: 'Hello, Ada!', apiStatus: 'ok' }),
  },
  'welcome.json': {
    input: { email: 'ada@example.com', plan: 'pro', teammates: ['grace', 'linus'] },
    events: { approved: { by: 'grace' } },
    expect: (steps) => {
      assert.deepEqual((steps.get('crm')?.output as { body: unknown }).body, {
        echo: { email: 'ada@example.com' },
        method: 'POST',
        contentType: 'application/json',
      });
      assert.equal(steps.get('vip')?.status, 'completed', 'pro users take the parallel welcome');
      assert.equal(steps.get('approved')?.output, 'approved by grace');
      assert.equal(steps.get('expired'), undefined, 'the approval did not time out');
    },
  },
  'on-failure.json': {
    input: {
      failedRun: {
        id: 'f00d',
        workflowId: 'wf',
        workflowName: 'Nightly export',
        version: 3,
        status: 'failed',
        error: { code: 'HTTP_503', message: 'the service is down' },
        failedStep: 'upload',
        startedAt: '2026-01-01T00:00:00.000Z',
        url: 'https://zaps.example.com/ui#/runs/f00d',
      },
    },
    async setup(stack, apiUrl) {
      smtp = await startSmtpServer({ user: 'mailer', password: 'smtp-pa55' });
      const put = (name: string, value: string) => stack.call('PUT', `/v1/secrets/${name}`, { value });
      assert.equal((await put('smtp_pw', 'smtp-pa55')).status < 300, true);
      assert.equal((await put('slack_hook', `${apiUrl}/dev/echo`)).status < 300, true);
      const mailer = await stack.call('POST', '/v1/connections', {
        name: 'mailer',
        type: 'smtp',
        config: { host: '127.0.0.1', port: smtp.port, user: 'mailer', password: "$secret('smtp_pw')" },
      });
      assert.equal(mailer.status, 201, JSON.stringify(mailer.body));
    },
    expect: (steps) => {
      assert.equal(steps.get('what')?.output, 'failed at step upload: the service is down');
      assert.equal(steps.get('email')?.status, 'completed');
      assert.equal(steps.get('slack')?.status, 'completed');
      const mail = smtp?.received[0]?.mail;
      assert.equal(mail?.subject, 'Nightly export v3: failed at step upload: the service is down');
      assert.match(mail?.text ?? '', /https:\/\/zaps\.example\.com\/ui#\/runs\/f00d/);
    },
  },
};

let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;

/** Every step of a run, nested branches and items included, by id (the last one of an id wins). */
function flatten(steps: StepView[], into = new Map<string, StepView>()): Map<string, StepView> {
  for (const s of steps) {
    into.set(s.id, s);
    for (const child of s.children ?? []) flatten(Array.isArray(child.steps) ? child.steps : [], into);
  }
  return into;
}

describe('every example in examples/ runs to the end on its happy path (real Temporal, PostgreSQL, HTTP)', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  before(async () => {
    // As under `npm run dev`: the API serves /dev/echo, and http steps may reach it.
    stack = await startStack({ env: { API_DEV_ECHO: 'true' } });
    api = await serveHttp((req) => stack.app.fetch(req));
  });
  after(async () => {
    await api?.close();
    await stack?.stop();
    await smtp?.close();
  });

  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
  it('knows the happy path of every example', () => {
    assert.deepEqual(files.sort(), Object.keys(HAPPY_PATHS).sort());
  });

  for (const file of files) {
    it(`${file} completes with every step on its happy path`, async () => {
      const happy = HAPPY_PATHS[file];
      assert.ok(happy, `no happy path for ${file}`);
      // The examples call the API at its `npm run dev` address; here it listens on a free port.
      await happy.setup?.(stack, api.url);
      const text = readFileSync(new URL(file, EXAMPLES), 'utf8').replaceAll('http://127.0.0.1:3000', api.url);
      const id = await createWorkflow(stack, JSON.parse(text));
      const runId = await trigger(stack, id, happy.input);
      for (const [name, payload] of Object.entries(happy.events ?? {})) {
        await waitFor(`${file} to wait for its ${name} event`, async () => {
          const run = (await stack.call('GET', `/v1/runs/${runId}`)).body;
          return [...flatten(run.steps ?? []).values()].some((s) => s.status === 'waiting' && s.id !== 'wait')
            ? true
            : undefined;
        });
        assert.equal((await stack.call('POST', `/v1/runs/${runId}/events/${name}`, payload)).status, 202);
      }
      const run = await waitForEnd(stack, runId);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const steps = flatten(run.steps);
      for (const s of steps.values()) assert.notEqual(s.status, 'failed', `${file}: step ${s.id} failed`);
      await happy.expect(steps, run.result);
    });
  }

  it('serves /dev/echo only when asked and never in production', async () => {
    const echo = (config: Partial<Stack['config']>) =>
      createApp({ ...stack.deps, config: { ...stack.deps.config, ...config } }).request('/dev/echo', {
        method: 'POST',
        body: '{}',
      });
    assert.equal((await echo({})).status, 200);
    assert.equal((await echo({ API_DEV_ECHO: false })).status, 404);
    const production = await echo({
      NODE_ENV: 'production',
      AUTH_MODE: 'hs256',
      AUTH_HS256_SECRET: 'a-secret-that-is-long-enough-for-hs256',
      AUTH_AUDIENCE: 'mini-zaps',
    });
    assert.equal(production.status, 401, 'not a public route in production: it is not there');
  });
});

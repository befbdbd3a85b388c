import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

type StepAnswer = { error?: { code: string; message: string }; output?: { status: number; body: unknown } };

// The allow-list covers all of loopback, as an operator's `10.0.0.0/8` covers the engine's own hosts.
describe("connectors: never the engine's own services whatever HTTP_ALLOWLIST says, no secret across origins, the step test queues like a run", () => {
  const suite = useStack({ temporalUi: true, env: { HTTP_ALLOWLIST: '127.0.0.0/8' } });
  let other: Receiver;
  before(async () => {
    other = await startReceiver();
    await suite.stack.call('PUT', '/v1/secrets/engine_pw', { value: engineUrl().password });
    await suite.stack.call('PUT', '/v1/secrets/api_key', { value: 'k3y-that-stays-home' });
  });
  after(async () => other?.close());

  const engineUrl = () => new URL(suite.stack.config.DATABASE_URL ?? '');
  const stepTest = async (step: Record<string, unknown>): Promise<StepAnswer> => {
    const res = await suite.stack.call('POST', '/v1/steps/test', { step, context: {} });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const get = (url: string, extra: Record<string, unknown> = {}) => ({
    id: 'get',
    type: 'http',
    config: { method: 'GET', url, ...extra },
    retry: { maxAttempts: 1 },
  });

  it("a sql connection to the engine's database, with its real credentials, is refused: HOST_RESERVED", async () => {
    const db = engineUrl();
    const put = await suite.stack.call('PUT', '/v1/connections/enginedb', {
      type: 'postgres',
      config: {
        host: db.hostname,
        port: Number(db.port),
        database: db.pathname.slice(1),
        user: db.username,
        password: "$secret('engine_pw')",
      },
    });
    assert.ok([200, 201].includes(put.status), JSON.stringify(put.body));
    const checked = await suite.stack.call('POST', '/v1/connections/enginedb/test');
    assert.equal(checked.body.ok, false, JSON.stringify(checked.body));
    assert.equal(checked.body.error.code, 'HOST_RESERVED');
    const tested = await stepTest({
      id: 'q',
      type: 'sql',
      connection: 'enginedb',
      config: { query: 'SELECT tenant_id, name FROM workflows' },
    });
    assert.equal(tested.error?.code, 'HOST_RESERVED', JSON.stringify(tested));
    assert.equal(tested.output, undefined);
  });

  it('an http step to the Temporal Web UI or frontend is refused, directly, in a run and after a redirect; other loopback services stay reachable', async () => {
    const ui = suite.stack.config.TEMPORAL_UI_URL;
    const history = `${ui}/api/v1/namespaces/default/workflows`;
    assert.equal((await stepTest(get(history))).error?.code, 'HOST_RESERVED');
    assert.equal((await stepTest(get(`http://${suite.stack.config.TEMPORAL_ADDRESS}/`))).error?.code, 'HOST_RESERVED');

    suite.receiver.on('/to-ui', () => ({ status: 307, headers: { location: history } }));
    assert.equal((await stepTest(get(`${suite.receiver.url}/to-ui`))).error?.code, 'HOST_RESERVED');

    suite.receiver.accept('/fine');
    assert.equal((await stepTest(get(`${suite.receiver.url}/fine`))).output?.status, 200);

    const id = await createWorkflow(suite.stack, { name: 'peek', steps: [get(history)] });
    const run = await waitForEnd(suite.stack, await trigger(suite.stack, id, {}));
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.code, 'HOST_RESERVED', JSON.stringify(run.error));
  });

  it('a cross-origin 307 drops every header holding a secret, and refuses to re-send a body holding one', async () => {
    other.accept('/land');
    suite.receiver.on('/hop', () => ({ status: 307, headers: { location: `${other.url}/land` } }));
    const headers = {
      'x-api-key': "{{ $secret('api_key') }}",
      authorization: 'Bearer plain-token',
      cookie: 'session=1',
      'x-trace': 'kept',
    };
    const moved = await stepTest(get(`${suite.receiver.url}/hop`, { headers }));
    assert.equal(moved.output?.status, 200, JSON.stringify(moved));
    const [landed] = other.requestsTo('/land');
    assert.ok(landed);
    assert.equal(landed.headers['x-trace'], 'kept');
    for (const name of ['x-api-key', 'authorization', 'cookie']) assert.equal(landed.headers[name], undefined, name);
    assert.equal(suite.receiver.requestsTo('/hop')[0]?.headers['x-api-key'], 'k3y-that-stays-home');

    const posted = await stepTest({
      ...get(`${suite.receiver.url}/hop`),
      config: { method: 'POST', url: `${suite.receiver.url}/hop`, body: { key: "{{ $secret('api_key') }}" } },
    });
    assert.equal(posted.error?.code, 'HTTP_REDIRECT_CREDENTIALS', JSON.stringify(posted));
    assert.equal(other.requestsTo('/land').length, 1, 'the body never went to the other origin');
  });

  it("POST /v1/steps/test takes its connection's rate-limit turn and concurrency slot like a run's step", async () => {
    const connection = (name: string, rateLimit: Record<string, unknown>) =>
      suite.stack.call('PUT', `/v1/connections/${name}`, {
        type: 'http',
        config: { baseUrl: suite.receiver.url },
        rateLimit,
      });
    const call = (name: string, path: string) =>
      stepTest({ ...get(`${suite.receiver.url}${path}`), connection: name, timeout: '3s' });

    assert.ok([200, 201].includes((await connection('one_a_minute', { perMinute: 1 })).status));
    suite.receiver.accept('/limited');
    assert.equal((await call('one_a_minute', '/limited')).output?.status, 200);
    const throttled = await call('one_a_minute', '/limited');
    assert.equal(throttled.error?.code, 'STEP_TEST_THROTTLED', JSON.stringify(throttled));
    assert.equal(suite.receiver.requestsTo('/limited').length, 1, 'the second test never went out');

    assert.ok([200, 201].includes((await connection('one_at_a_time', { concurrency: 1 })).status));
    suite.receiver.on('/held', () => ({ status: 200, body: { ok: true }, delayMs: 500 }));
    const answers = await Promise.all([1, 2, 3].map(() => call('one_at_a_time', '/held')));
    assert.deepEqual(
      answers.map((a) => a.output?.status),
      [200, 200, 200],
      JSON.stringify(answers),
    );
    assert.equal(suite.receiver.requestsTo('/held').length, 3);
    assert.equal(suite.receiver.maxInFlight('/held'), 1);
  });
});

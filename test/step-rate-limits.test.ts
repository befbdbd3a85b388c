import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './helpers/ports.js';
import { hasRedis, startRedis } from './helpers/redis.js';
import { mostWithin, startReceiver, type Receiver } from './helpers/receiver.js';
import { createWorkflow } from './helpers/runs.js';
import { startStack, type Stack } from './helpers/stack.js';

/** Every run's status and its one step's attempts, once all have ended. */
async function ended(stack: Stack, runIds: string[], timeoutMs: number) {
  return waitFor(
    `${runIds.length} runs to end`,
    async () => {
      const runs = await Promise.all(runIds.map(async (id) => (await stack.call('GET', `/v1/runs/${id}`)).body));
      return runs.every((r) => ['completed', 'failed'].includes(r.status)) ? runs : undefined;
    },
    timeoutMs,
  );
}

async function startRuns(stack: Stack, workflowId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, j) => stack.call('POST', `/v1/workflows/${workflowId}/runs`, { n: i + j })));
    ids.push(...batch.map((r) => r.body.runId));
  }
  return ids;
}

describe('rate limits that wait (real Temporal, real PostgreSQL, Redis)', { skip: hasRedis ? false : 'redis-server is not installed' }, () => {
  let stack: Stack;
  let receiver: Receiver;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  before(async () => {
    redis = await startRedis();
    [stack, receiver] = await Promise.all([startStack({ env: { REDIS_URL: redis.url } }), startReceiver()]);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
    redis?.stop();
  });

  it('200 runs on one key at 5/s finish in about 40 s; the receiver never sees more than 5 in a second, and no attempt fails', { timeout: 180_000 }, async () => {
    receiver.accept('/crm');
    const wf = await createWorkflow(stack, { name: 'limited', steps: [{ id: 'call', type: 'http', rateLimit: { key: 'crm', perSecond: 5 }, config: { method: 'POST', url: `${receiver.url}/crm`, body: { n: '{{ trigger.n }}' } } }] });
    const runIds = await startRuns(stack, wf, 200);
    // The receiver shares this process with the API and the worker: polling 200 runs while they
    // call it would delay the receiver's own timestamps, so wait on its count first.
    await waitFor('200 requests', async () => (receiver.requestsTo('/crm').length >= 200 ? true : undefined), 120_000);
    const runs = await ended(stack, runIds, 30_000);
    assert.ok(runs.every((r) => r.status === 'completed' && r.steps[0].attempts === 1), 'every run completed with its step on its first attempt');
    const times = receiver.requestsTo('/crm').map((r) => r.at);
    assert.equal(times.length, 200);
    assert.ok(mostWithin(times, 1000) <= 5, `at most 5 in any second, saw ${mostWithin(times, 1000)}`);
    const span = (Math.max(...times) - Math.min(...times)) / 1000;
    assert.ok(span >= 39 && span <= 50, `took ${span} s`);
  });

  it("a 429 with Retry-After: 2 pauses the key of a connection's rate limit for every run", { timeout: 60_000 }, async () => {
    receiver.on('/busy', (_req, count) => (count === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200, body: { ok: true } }));
    assert.equal((await stack.call('POST', '/v1/connections', { name: 'busy_api', type: 'http', config: { baseUrl: receiver.url }, rateLimit: { perSecond: 20 } })).status, 201);
    const wf = await createWorkflow(stack, { name: 'paused', steps: [{ id: 'call', type: 'http', connection: 'busy_api', config: { url: `${receiver.url}/busy` }, retry: { maxAttempts: 3, initialInterval: '100ms' } }] });
    const runIds = await startRuns(stack, wf, 10);
    const runs = await ended(stack, runIds, 45_000);
    assert.ok(runs.every((r) => r.status === 'completed'));
    const [refused, ...rest] = receiver.requestsTo('/busy').map((r) => r.at);
    assert.ok(refused !== undefined && rest.length === 10);
    const early = rest.filter((t) => t - refused < 1_900);
    assert.deepEqual(early, [], 'no run reached the upstream within its Retry-After');
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { waitFor } from '../helpers/ports.js';
import { hasRedis, startRedis } from '../helpers/redis.js';
import { PACING_TOLERANCE_MS } from '../helpers/pacing.js';
import { heldUntilOpen, mostWithin, startReceiver, type Receiver } from '../helpers/receiver.js';
import { skipUnlessCi } from '../helpers/skip.js';
import { createWorkflow, trigger, waitForStatus } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { REPLAY_OPTIONS } from '../helpers/replay.js';

/**
 * A receiver in its own process, so its timestamps are not delayed by the API, the worker and the
 * test sharing this one: it answers 200 to everything and serves what arrived when at /__times.
 */
async function startOutsideReceiver(): Promise<{
  url: string;
  received: () => Promise<{ at: number; key: string }[]>;
  stop: () => void;
}> {
  const script = `
    const times = [];
    const server = require('node:http').createServer((req, res) => {
      if (req.url === '/__times') return res.end(JSON.stringify(times));
      req.resume();
      req.on('end', () => { times.push([Date.now(), req.headers['idempotency-key']]); res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data');
  const url = `http://127.0.0.1:${String(line).trim()}`;
  const received = async () => {
    const body: unknown = await (await fetch(`${url}/__times`)).json();
    return Array.isArray(body)
      ? body.map((r: unknown) => ({
          at: Number(Array.isArray(r) ? r[0] : 0),
          key: String(Array.isArray(r) ? r[1] : ''),
        }))
      : [];
  };
  return { url, received, stop: () => void child.kill() };
}

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
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, count - i) }, (_, j) =>
        stack.call('POST', `/v1/workflows/${workflowId}/runs`, { n: i + j }),
      ),
    );
    ids.push(...batch.map((r) => r.body.runId));
  }
  return ids;
}

describe(
  'rate limits that wait (real Temporal, real PostgreSQL, Redis)',
  { skip: skipUnlessCi(hasRedis ? undefined : 'redis-server is not installed') },
  () => {
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

    it(
      'runs on one key at 5/s are spread out by durable waits, each step on its first attempt',
      { timeout: 120_000 },
      async () => {
        receiver.accept('/spread');
        const wf = await createWorkflow(stack, {
          name: 'spread',
          steps: [
            {
              id: 'call',
              type: 'http',
              rateLimit: { key: 'spread', perSecond: 5 },
              config: { url: `${receiver.url}/spread` },
            },
          ],
        });
        const since = Date.now();
        const runIds = await startRuns(stack, wf, 20);
        const runs = await ended(stack, runIds, 90_000);
        assert.deepEqual(
          runs.filter((r) => r.status !== 'completed' || r.steps[0].attempts !== 1),
          [],
        );
        const times = receiver.requestsTo('/spread').map((r) => r.at);
        // 19 slots of 200 ms after the first, counted from before the runs started (a stalled first
        // request cannot shorten it; a slow machine only lengthens it).
        assert.ok(
          Math.max(...times) - since >= 19 * 200 - PACING_TOLERANCE_MS,
          `the last call came ${Math.max(...times) - since} ms after the start`,
        );
        const history = await stack.client.workflow.getHandle(runIds.at(-1) ?? '').fetchHistory();
        assert.ok(
          (history.events ?? []).some((e) => e.timerStartedEventAttributes),
          'the last run waited on a durable timer',
        );
      },
    );

    // Measured by the receiver's own clock, this needs a machine that is not busy with other work: a
    // stalled sender or receiver bunches requests that left on time. Run with TEST_RATE_LOAD=1.
    it(
      '200 runs on one key at 5/s finish in about 40 s; the receiver never sees more than 5 in a second, and no attempt fails',
      {
        timeout: 240_000,
        skip: process.env.TEST_RATE_LOAD ? false : 'set TEST_RATE_LOAD=1 on an otherwise idle machine',
      },
      async () => {
        const outside = await startOutsideReceiver();
        after(outside.stop);
        const wf = await createWorkflow(stack, {
          name: 'limited',
          steps: [
            {
              id: 'call',
              type: 'http',
              rateLimit: { key: 'crm', perSecond: 5 },
              config: { method: 'POST', url: `${outside.url}/crm`, body: { n: '{{ trigger.n }}' } },
            },
          ],
        });
        const runIds = await startRuns(stack, wf, 200);
        const distinct = async () => new Set((await outside.received()).map((r) => r.key)).size;
        await waitFor('requests of 200 steps', async () => ((await distinct()) >= 200 ? true : undefined), 180_000);
        const runs = await ended(stack, runIds, 30_000);
        const off = runs.filter((r) => r.status !== 'completed' || r.steps[0].attempts !== 1);
        assert.deepEqual(
          off.map((r) => ({ status: r.status, step: r.steps[0] })),
          [],
          'every run completed with its step on its first attempt',
        );
        // A local activity whose workflow task timed out (a loaded machine) runs again, with the same
        // Idempotency-Key; every request, repeats included, went through the limit.
        const received = await outside.received();
        const times = received.map((r) => r.at);
        assert.equal(await distinct(), 200);
        const busiest = received
          .filter((r) => received.filter((o) => o.at >= r.at && o.at < r.at + 1000).length > 5)
          .slice(0, 1)
          .flatMap((r) => received.filter((o) => o.at >= r.at && o.at < r.at + 1000));
        assert.ok(
          mostWithin(times, 1000) <= 5,
          `at most 5 in any second, saw ${mostWithin(times, 1000)}: ${JSON.stringify(busiest)}`,
        );
        const span = (Math.max(...times) - Math.min(...times)) / 1000;
        assert.ok(span >= 39 && span <= 60, `took ${span} s`);
      },
    );

    it(
      "a 429 with Retry-After: 2 pauses the key of a connection's rate limit for every run",
      { timeout: 60_000 },
      async () => {
        receiver.on('/busy', (_req, count) =>
          count === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200, body: { ok: true } },
        );
        assert.equal(
          (
            await stack.call('POST', '/v1/connections', {
              name: 'busy_api',
              type: 'http',
              config: { baseUrl: receiver.url },
              rateLimit: { perSecond: 2 },
            })
          ).status,
          201,
        );
        const wf = await createWorkflow(stack, {
          name: 'paused',
          steps: [
            {
              id: 'call',
              type: 'http',
              connection: 'busy_api',
              config: { url: `${receiver.url}/busy` },
              retry: { maxAttempts: 3, initialInterval: '100ms' },
            },
          ],
        });
        const runIds = await startRuns(stack, wf, 6);
        const runs = await ended(stack, runIds, 45_000);
        assert.ok(runs.every((r) => r.status === 'completed'));
        const [refused, ...rest] = receiver.requestsTo('/busy').map((r) => r.at);
        assert.ok(refused !== undefined && rest.length >= 6);
        const early = rest.filter((t) => t - refused < 1_900);
        assert.deepEqual(early, [], 'no run reached the upstream within its Retry-After');
      },
    );

    it(
      'concurrency 3: a receiver holding each request 300 ms never has more than 3 open, and every run completes on its first attempt',
      { timeout: 120_000 },
      async () => {
        // Answers wait until two are open at once: the overlap the limit allows is seen on any machine.
        receiver.on('/held', heldUntilOpen(receiver, '/held', 2));
        const wf = await createWorkflow(stack, {
          name: 'held',
          steps: [
            {
              id: 'call',
              type: 'http',
              rateLimit: { key: 'held', concurrency: 3 },
              config: { url: `${receiver.url}/held` },
            },
          ],
        });
        const runIds = await startRuns(stack, wf, 12);
        const runs = await ended(stack, runIds, 90_000);
        assert.deepEqual(
          runs.filter((r) => r.status !== 'completed' || r.steps[0].attempts !== 1),
          [],
          'every run completed with its step on its first attempt',
        );
        assert.equal(receiver.requestsTo('/held').length, 12, 'each step called once');
        const most = receiver.maxInFlight('/held');
        assert.ok(most <= 3, `at most 3 in flight, saw ${most}`);
        assert.ok(most >= 2, `the limit lets calls overlap (saw ${most} at most)`);
        const histories = await Promise.all(runIds.map((id) => stack.client.workflow.getHandle(id).fetchHistory()));
        const failed = histories.flatMap((h) => (h.events ?? []).filter((e) => e.activityTaskFailedEventAttributes));
        assert.deepEqual(failed, [], 'no activity attempt failed');
        assert.ok(
          histories.some((h) => (h.events ?? []).some((e) => e.timerStartedEventAttributes)),
          'runs waited for a slot on durable timers',
        );
      },
    );

    it('a rateLimit with a bad concurrency, or with nothing to limit, is refused as problem+json, on a connection and on a step', async () => {
      for (const rateLimit of [{ concurrency: 0 }, { concurrency: 1.5 }, { concurrency: 1001 }, { key: 'k' }]) {
        const connection = await stack.call('POST', '/v1/connections', {
          name: 'refused_api',
          type: 'http',
          config: { baseUrl: receiver.url },
          rateLimit,
        });
        assert.equal(connection.status, 400, JSON.stringify(rateLimit));
        assert.equal(connection.body.code, 'INVALID_REQUEST', JSON.stringify(connection.body));
        const step = { id: 'call', type: 'http', rateLimit, config: { url: `${receiver.url}/x` } };
        const validated = await stack.call('POST', '/v1/workflows/validate', { name: 'refused', steps: [step] });
        assert.equal(validated.status, 400, JSON.stringify(validated.body));
        assert.equal(validated.body.code, 'INVALID_DEFINITION');
        assert.ok(
          validated.body.errors.some((e: { pointer: string }) => e.pointer.startsWith('/steps/0/rateLimit')),
          JSON.stringify(validated.body.errors),
        );
      }
    });

    it(
      "cancelling a run mid-call frees its slot on its connection's concurrency at once, not when the lease ends",
      { timeout: 90_000 },
      async () => {
        receiver.on('/single', (_req, count) =>
          count === 1 ? { status: 200, body: { ok: true }, delayMs: 25_000 } : { status: 200, body: { ok: true } },
        );
        assert.equal(
          (
            await stack.call('POST', '/v1/connections', {
              name: 'single_api',
              type: 'http',
              config: { baseUrl: receiver.url },
              rateLimit: { concurrency: 1 },
            })
          ).status,
          201,
        );
        const wf = await createWorkflow(stack, {
          name: 'single',
          steps: [{ id: 'call', type: 'http', connection: 'single_api', config: { url: `${receiver.url}/single` } }],
        });
        const [first] = await startRuns(stack, wf, 1);
        await waitFor('the first call to arrive', async () =>
          receiver.requestsTo('/single').length ? true : undefined,
        );
        const [second] = await startRuns(stack, wf, 1);
        await new Promise((r) => setTimeout(r, 2_000));
        assert.equal(receiver.requestsTo('/single').length, 1, 'the second run waits while the first holds the slot');
        const cancelledAt = Date.now();
        assert.equal((await stack.call('POST', `/v1/runs/${first}/cancel`)).status, 202);
        const [done] = await ended(stack, [second ?? ''], 30_000);
        assert.equal(done.status, 'completed');
        const secondCall = receiver.requestsTo('/single')[1];
        assert.ok(secondCall, 'the second run called once the first was cancelled');
        assert.ok(
          secondCall.at - cancelledAt < 30_000,
          `the slot came back ${secondCall.at - cancelledAt} ms after the cancel, long before its 40 s lease ends`,
        );
        await waitForStatus(stack, first ?? '', 'cancelled');
      },
    );

    it(
      'parallel branches waiting on one rate-limited key replay as they ran (one goes on while another sleeps)',
      { timeout: 120_000 },
      async () => {
        receiver.on('/branches', () => ({ status: 200, body: { ok: true }, delayMs: 100 }));
        const wf = await createWorkflow(stack, {
          name: 'branches',
          steps: [
            {
              id: 'fan',
              type: 'parallel',
              branches: [1, 2, 3, 4].map((n) => [
                {
                  id: `call${n}`,
                  type: 'http',
                  rateLimit: { key: 'branches-{{ trigger.n }}', perSecond: 10 },
                  local: false,
                  config: { url: `${receiver.url}/branches` },
                },
              ]),
            },
          ],
        });
        // One run at a time, a key each: the first branch goes on at once while the others sleep.
        const runIds: string[] = [];
        for (let i = 0; i < 4; i++) {
          const runId = await trigger(stack, wf, { n: i });
          runIds.push(runId);
          assert.equal((await ended(stack, [runId], 30_000))[0].status, 'completed');
        }
        const histories = await Promise.all(
          runIds.map(async (workflowId) => ({
            workflowId,
            history: await stack.client.workflow.getHandle(workflowId).fetchHistory(),
          })),
        );
        const failures: string[] = [];
        for await (const result of Worker.runReplayHistories(REPLAY_OPTIONS, histories))
          if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
        assert.deepEqual(failures, []);
      },
    );
  },
);

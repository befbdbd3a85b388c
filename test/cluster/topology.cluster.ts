// `npm run test:cluster`: the production topology (PostgreSQL-backed Temporal server and its Web
// UI, 2 APIs, 3 workers, Redis): the Web UI reads the server, then the topology runs under load, with a worker and an API SIGKILLed and the Temporal server
// restarted midway. Not part of `npm test` (it builds or reuses the real server: see .ci/run).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCluster, type Cluster } from '../../scripts/cluster-topology.js';
import { mintToken } from '../../src/shared/tokens.js';
import { waitFor } from '../helpers/ports.js';
import { startReceiver } from '../helpers/receiver.js';
import { countsPerKey } from '../faults/per-key.js';
import { assertRunsCompleted, pushTriggers, type PushResult } from './load.js';

const RUNS = Number(process.env.CLUSTER_TEST_RUNS ?? 1000);
let cluster: Cluster;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let dataDir: string;
let passed = 0;

before(async () => {
  receiver = await startReceiver();
  receiver.on('/hook', () => ({ status: 200, body: { ok: true } }));
  dataDir = await mkdtemp(join(tmpdir(), 'mini-zaps-cluster-'));
  cluster = await startCluster({ dataDir, apis: 2, workers: 3, httpAllowlist: '127.0.0.1' });
});

after(async () => {
  await cluster?.stop();
  await receiver?.close();
  // The processes' logs stay for a failed run.
  if (dataDir && passed === 2) await rm(dataDir, { recursive: true, force: true });
  else if (dataDir) process.stdout.write(`# logs kept in ${dataDir}/logs\n`);
});

test('the Web UI serves its app and, through its API, the default namespace and a run started through the API, read from the PostgreSQL-backed server', async () => {
  const token = await mintToken(cluster.authSecret, {
    tenant: 'default',
    scopes: ['admin'],
    ttl: '1h',
    audience: 'mini-zaps',
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${cluster.apiUrl}/v1/workflows`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      name: 'seen in the Web UI',
      steps: [{ id: 'shape', type: 'transform', config: { expression: '{"n": trigger.n}' } }],
    }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const { id: workflowId } = (await created.json()) as { id: string };
  const triggered = await fetch(`${cluster.apiUrl}/v1/workflows/${workflowId}/runs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ n: 1 }),
  });
  assert.equal(triggered.status, 202, await triggered.clone().text());
  const { runId } = (await triggered.json()) as { runId: string };

  const page = await fetch(`${cluster.ui.url}/namespaces/${cluster.namespace}/workflows`);
  assert.equal(page.status, 200);
  const html = await page.text();
  const script = /\/_app\/immutable\/[^"]+\.js/.exec(html)?.[0];
  assert.ok(script, 'the page loads the UI app');
  const asset = await fetch(`${cluster.ui.url}${script}`);
  assert.equal(asset.status, 200, `the UI app's ${script} is served`);
  await asset.arrayBuffer();

  const namespaces = (await (await fetch(`${cluster.ui.url}/api/v1/namespaces`)).json()) as {
    namespaces: { namespaceInfo: { name: string } }[];
  };
  assert.ok(
    namespaces.namespaces.some((n) => n.namespaceInfo.name === cluster.namespace),
    `the UI lists the ${cluster.namespace} namespace`,
  );
  const query = encodeURIComponent(`WorkflowId = '${runId}'`);
  const listed = await waitFor(
    'the run to show in the Web UI',
    async () => {
      const res = await fetch(`${cluster.ui.url}/api/v1/namespaces/${cluster.namespace}/workflows?query=${query}`);
      const body = (await res.json()) as {
        executions?: { execution: { workflowId: string }; type: { name: string } }[];
      };
      return body.executions?.length ? body.executions : undefined;
    },
    30_000,
  );
  assert.deepEqual(
    listed.map((e) => [e.execution.workflowId, e.type.name]),
    [[runId, 'interpreter']],
    'the UI lists the run as its interpreter execution',
  );
  passed++;
});

test(`${RUNS} runs through both APIs survive a SIGKILLed worker, a SIGKILLed API and a Temporal restart: each acknowledged trigger is exactly one completed run, and the index agrees with Temporal`, async () => {
  const token = await mintToken(cluster.authSecret, {
    tenant: 'default',
    scopes: ['admin'],
    ttl: '2h',
    audience: 'mini-zaps',
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const definition = {
    name: 'cluster load',
    steps: [
      {
        id: 'call',
        type: 'http',
        config: { method: 'POST', url: `${receiver.url}/hook`, body: { n: '{{ trigger.n }}' } },
      },
      { id: 'shape', type: 'transform', config: { expression: '{"n": trigger.n, "ok": steps.call.output.body.ok}' } },
    ],
  };
  const created = await fetch(`${cluster.apiUrl}/v1/workflows`, {
    method: 'POST',
    headers,
    body: JSON.stringify(definition),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const { id: workflowId } = (await created.json()) as { id: string };

  const faults: Promise<void>[] = [];
  const started = Date.now();
  const pushed: PushResult = await pushTriggers({
    apiUrls: cluster.apis.map((a) => a.url),
    path: `/v1/workflows/${workflowId}/runs`,
    token,
    count: RUNS,
    inFlight: 16,
    deadlineMs: 15 * 60_000,
    onAcked: (acked) => {
      if (acked === Math.floor(RUNS * 0.4))
        faults.push(
          Promise.all([cluster.workers[0]?.kill('SIGKILL'), cluster.apis[0]?.kill('SIGKILL')]).then(() => undefined),
        );
      if (acked === Math.floor(RUNS * 0.6)) faults.push(cluster.temporal.restart());
    },
  });
  await Promise.all(faults);
  assert.equal(faults.length, 2, 'both faults were injected');
  assert.equal(pushed.runIds.size, RUNS, 'every trigger was acknowledged');
  const acked = new Set(pushed.runIds.values());
  assert.equal(acked.size, RUNS, 'distinct idempotency keys gave distinct runs');

  await assertRunsCompleted({
    temporalAddress: cluster.temporal.address,
    namespace: cluster.namespace,
    databaseUrl: cluster.pg.appUrl,
    workflowId,
    acked,
  });
  // Counted per key, not as a set: a call repeats only when a fault hit it in flight, once per fault at most.
  const calls = countsPerKey(receiver, '/hook');
  assert.deepEqual(
    [...calls.keys()].map((key) => key.slice(0, key.lastIndexOf(':'))).sort(),
    [...acked].sort(),
    'every run called the receiver once under its own key (<runId>:<stepId>)',
  );
  const repeated = [...calls.entries()].filter(([, { count }]) => count > 1);
  for (const [key, { count }] of repeated)
    assert.ok(count <= 1 + faults.length, `${key} reached the receiver ${count} times, more than once per fault`);
  passed++;
  process.stdout.write(
    `# ${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(1)} s, ${pushed.retried} trigger calls repeated, ${repeated.length} receiver calls repeated\n`,
  );
});

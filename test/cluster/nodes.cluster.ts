// `npm run test:cluster`, second file: the Temporal server as a multi-node cluster (2 frontends
// behind a load balancer, 2 history nodes owning 16 shards, 2 matching nodes, 1 internal worker) on
// PostgreSQL, under the production topology of Mini-Zaps (2 APIs, 3 workers, Redis, the Web UI).
// Under load, a history node, a matching node and a frontend are SIGKILLed in turn and restarted;
// every acknowledged trigger must be exactly one completed run, and the shard map must follow the
// history node out and back. What the faults cost is written to bench/results/cluster-nodes.md.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  formatShardMap,
  shardMapProblem,
  TEMPORAL_NODES_SHARDS,
  type ShardMap,
  type TemporalNode,
} from '../../scripts/cluster-temporal.js';
import { startCluster, type Cluster } from '../../scripts/cluster-topology.js';
import { mintToken } from '../../src/shared/tokens.js';
import { assertOncePerKey } from '../faults/per-key.js';
import { startReceiver } from '../helpers/receiver.js';
import { assertRunsCompleted, pushTriggers, type ClosedRun } from './load.js';

/** The issue's 2,000 by default; CLUSTER_NODES_TEST_RUNS sizes it for a quicker local pass. */
const RUNS = Number(process.env.CLUSTER_NODES_TEST_RUNS ?? 2000);
/** Most runs acknowledged and not yet at the receiver while pushing. */
const BACKLOG = 48;
/** How long a killed node stays down before it is started again. */
const DOWN_MS = 10_000;
/** Runs started this long before a kill, or after its node is back, count as "around" it. */
const AROUND_MS = 10_000;
const RESULTS = join(import.meta.dirname, '..', '..', 'bench', 'results', 'cluster-nodes');

let cluster: Cluster;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let dataDir: string;
let passed = 0;

before(async () => {
  receiver = await startReceiver();
  receiver.on('/hook', () => ({ status: 200, body: { ok: true } }));
  dataDir = await mkdtemp(join(tmpdir(), 'mini-zaps-cluster-nodes-'));
  cluster = await startCluster({ dataDir, apis: 2, workers: 3, httpAllowlist: '127.0.0.1', nodes: true });
});

after(async () => {
  await cluster?.stop();
  await receiver?.close();
  if (dataDir && passed === 2) await rm(dataDir, { recursive: true, force: true });
  else if (dataDir) process.stdout.write(`# logs kept in ${dataDir}/logs\n`);
});

const nodes = () => {
  const temporalNodes = cluster.temporalNodes;
  assert.ok(temporalNodes, 'the cluster runs Temporal as nodes');
  return temporalNodes;
};
const node = (name: string): TemporalNode => {
  const found = nodes().nodes.find((n) => n.name === name);
  assert.ok(found, `node ${name}`);
  return found;
};

/** Waits until the history nodes `owners` own every shard between them, once each (read once a second); the map then. */
async function shardsOwnedBy(owners: readonly string[], timeoutMs: number): Promise<ShardMap> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not read';
  while (Date.now() < deadline) {
    const map = await nodes()
      .shardMap()
      .catch((err: unknown) => String(err).slice(0, 300));
    if (typeof map !== 'string') {
      const problem = shardMapProblem(map, owners);
      if (problem === undefined) return map;
      last = problem;
    } else last = map;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for the shards to be owned by ${owners.join(' and ')}: ${last}`,
  );
}

test('the nodes form one cluster: each service ring lists its nodes, and the two history nodes share the 16 shards', async () => {
  const rings = await nodes().rings();
  assert.deepEqual(rings, {
    frontend: ['frontend-1', 'frontend-2'],
    history: ['history-1', 'history-2'],
    matching: ['matching-1', 'matching-2'],
    worker: ['worker-1'],
  });
  const map = await shardsOwnedBy(['history-1', 'history-2'], 120_000);
  process.stdout.write(`# shard map: ${formatShardMap(map)}\n`);
  passed++;
});

/** What one kill did, measured. */
interface Fault {
  node: string;
  /** Acknowledged triggers when it was killed. */
  ackedAtKill: number;
  killedAt: number;
  /** Started again (DOWN_MS after the kill, or once its shards had moved if that took longer). */
  restartedAt: number;
  /** Back in its service's ring. */
  backAt: number;
  /** History: the map before, while down (its shards on the other node) and once it owned shards again. */
  shards?: { before: ShardMap; down: ShardMap; movedAfterMs: number; back: ShardMap; backAfterMs: number };
}

test(`${RUNS} runs through both APIs survive a SIGKILLed history node, matching node and frontend in turn: each acknowledged trigger is exactly one completed run, and the index agrees with Temporal`, async () => {
  const token = await mintToken(cluster.authSecret, {
    tenant: 'default',
    scopes: ['admin'],
    ttl: '2h',
    audience: 'mini-zaps',
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${cluster.apiUrl}/v1/workflows`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      name: 'cluster nodes load',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { method: 'POST', url: `${receiver.url}/hook`, body: { n: '{{ trigger.n }}' } },
        },
        {
          id: 'shape',
          type: 'transform',
          config: { expression: '{"n": trigger.n, "ok": steps.call.output.body.ok}' },
        },
      ],
    }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const { id: workflowId } = (await created.json()) as { id: string };

  // Read before the load, so the history kill lands at its mark.
  const initial = await shardsOwnedBy(['history-1', 'history-2'], 120_000);
  const faults: Fault[] = [];
  let ackedNow = 0;
  /** One fault at a time: a mark reached while the previous node is still down waits for it. */
  let chain = Promise.resolve();
  const kill = (name: string) => {
    chain = chain.then(async () => {
      const target = node(name);
      const history = target.service === 'history';
      const other = history ? nodes().nodes.find((n) => n.service === 'history' && n.name !== name) : undefined;
      const before = history ? initial : undefined;
      const acked = ackedNow;
      const killedAt = Date.now();
      await target.kill('SIGKILL');
      let down: ShardMap | undefined;
      if (history && other) {
        // Membership declares the node faulty after its suspect period; its shards then move.
        down = await shardsOwnedBy([other.name], 300_000);
      }
      const movedAt = Date.now();
      await new Promise((r) => setTimeout(r, Math.max(0, killedAt + DOWN_MS - Date.now())));
      const restartedAt = Date.now();
      await target.start();
      const backAt = Date.now();
      const fault: Fault = { node: name, ackedAtKill: acked, killedAt, restartedAt, backAt };
      if (before && down) {
        const back = await shardsOwnedBy(['history-1', 'history-2'], 300_000);
        fault.shards = { before, down, movedAfterMs: movedAt - killedAt, back, backAfterMs: Date.now() - restartedAt };
      }
      faults.push(fault);
      process.stdout.write(
        `# ${name} killed at ${acked} acknowledged, back ${((backAt - killedAt) / 1000).toFixed(1)} s later${fault.shards ? `; shards moved after ${(fault.shards.movedAfterMs / 1000).toFixed(1)} s: ${formatShardMap(fault.shards.down)}; after its restart: ${formatShardMap(fault.shards.back)}` : ''}\n`,
      );
    });
  };
  const marks = new Map([
    [Math.floor(RUNS * 0.3), 'history-1'],
    [Math.floor(RUNS * 0.5), 'matching-1'],
    [Math.floor(RUNS * 0.7), 'frontend-1'],
  ]);

  const started = Date.now();
  const pushed = await pushTriggers({
    apiUrls: cluster.apis.map((a) => a.url),
    path: `/v1/workflows/${workflowId}/runs`,
    token,
    count: RUNS,
    inFlight: 16,
    deadlineMs: 30 * 60_000,
    onAcked: (acked) => {
      ackedNow = acked;
      const name = marks.get(acked);
      if (name) kill(name);
    },
    // A closed load: at most BACKLOG runs acknowledged and not yet at the receiver, so the kills land
    // while runs are in flight, and latency is a run's, not a queue's.
    pace: async () => {
      const deadline = Date.now() + 10 * 60_000;
      while (ackedNow - receiver.requestsTo('/hook').length >= BACKLOG && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
    },
  });
  await chain;
  assert.deepEqual(
    faults.map((f) => f.node),
    ['history-1', 'matching-1', 'frontend-1'],
    'the three nodes were killed and came back, in turn',
  );
  assert.equal(pushed.runIds.size, RUNS, 'every trigger was acknowledged');
  const acked = new Set(pushed.runIds.values());
  assert.equal(acked.size, RUNS, 'distinct idempotency keys gave distinct runs');

  // The shard map followed the history node out and back.
  const history = faults[0]?.shards;
  assert.ok(history, 'the history fault recorded the shard map');
  assert.ok((history.before['history-1'] ?? []).length > 0, 'history-1 owned shards before its kill');
  assert.deepEqual(Object.keys(history.down), ['history-2'], 'while history-1 was down, history-2 owned every shard');
  assert.ok((history.back['history-1'] ?? []).length > 0, 'history-1 owned shards again once restarted');
  assert.notDeepEqual(history.down, history.back, 'the shard map changed when history-1 came back');

  const runs = await assertRunsCompleted({
    temporalAddress: cluster.temporal.address,
    namespace: cluster.namespace,
    databaseUrl: cluster.pg.appUrl,
    workflowId,
    acked,
  });
  // Each run called the receiver under its own key (<runId>:<stepId>); a call repeats only when a
  // fault hit it in flight, once per fault at most, and never after the last node came back.
  const receiverCounts = assertOncePerKey(
    receiver,
    '/hook',
    [...acked].map((id) => `${id}:call`),
    faults.map((f) => f.backAt),
  );
  const rows = faults.map((f) => ({ ...f, ...aroundKill(runs, f) }));
  assert.ok(
    (rows[0]?.inFlight ?? 0) > 0,
    'runs were in flight when history-1 was killed: its shards were handed over with work on them',
  );
  passed++;
  await writeResults(runs, rows, {
    seconds: (Date.now() - started) / 1000,
    retried: pushed.retried,
    retriedBy: pushed.retriedBy,
    repeated: receiverCounts.repeated,
  });
});

const percentile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const s = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '–');

/** What a kill cost the runs around it, from Temporal's start and close times. */
function aroundKill(runs: readonly ClosedRun[], f: Fault) {
  const around = runs.filter((r) => r.startedAt >= f.killedAt - AROUND_MS && r.startedAt <= f.backAt + AROUND_MS);
  const latencies = around.map((r) => r.closedAt - r.startedAt);
  // The longest stretch without a completion, from the kill until its node was back.
  const closes = runs
    .map((r) => r.closedAt)
    .filter((t) => t >= f.killedAt && t <= f.backAt)
    .sort((a, b) => a - b);
  let gap = 0;
  let last = f.killedAt;
  for (const t of [...closes, f.backAt]) {
    gap = Math.max(gap, t - last);
    last = t;
  }
  // The runs in flight at the kill: how long after it the last of them completed.
  const inFlight = runs.filter((r) => r.startedAt <= f.killedAt && r.closedAt > f.killedAt);
  const lastInFlight = Math.max(0, ...inFlight.map((r) => r.closedAt - f.killedAt));
  return {
    runs: around.length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: Math.max(...latencies),
    gap,
    inFlight: inFlight.length,
    lastInFlight,
  };
}

async function writeResults(
  runs: readonly ClosedRun[],
  rows: readonly (Fault & ReturnType<typeof aroundKill>)[],
  totals: { seconds: number; retried: number; retriedBy: Record<string, number>; repeated: number },
): Promise<void> {
  const firstKill = Math.min(...rows.map((f) => f.killedAt));
  const calm = runs.filter((r) => r.startedAt < firstKill - AROUND_MS).map((r) => r.closedAt - r.startedAt);
  const data = {
    runs: runs.length,
    cores: availableParallelism(),
    loadavg: loadavg().map((n) => Math.round(n * 100) / 100),
    downMs: DOWN_MS,
    aroundMs: AROUND_MS,
    ...totals,
    calm: { runs: calm.length, p50: percentile(calm, 0.5), p99: percentile(calm, 0.99) },
    faults: rows,
  };
  const history = rows.find((f) => f.shards)?.shards;
  const markdown = [
    `## Cluster nodes: ${runs.length} trigger → http → transform runs through 2 APIs on a multi-node Temporal server v1.32.2 (2 frontends, 2 history, 2 matching, 1 internal worker, ${TEMPORAL_NODES_SHARDS} shards, PostgreSQL), with a node SIGKILLed at 30, 50 and 70 % of the acknowledged triggers (${data.cores} cores shared by everything, load average ${data.loadavg.join(' / ')} at the end)`,
    '',
    `${runs.length} runs in ${totals.seconds.toFixed(0)} s (16 triggers in flight, at most ${BACKLOG} runs acknowledged and not yet at the receiver), each acknowledged trigger exactly one completed execution; ${totals.retried} trigger calls repeated by the client (${
      Object.entries(totals.retriedBy)
        .map(([why, n]) => `${why}: ${n}`)
        .join(', ') || 'none'
    }), ${totals.repeated} receiver calls repeated. Before the first kill: p50 ${s(data.calm.p50)} s, p99 ${s(data.calm.p99)} s over ${data.calm.runs} runs.`,
    '',
    '| node killed | acknowledged at kill | down (kill → back in its ring) s | longest gap in completions while down s | runs in flight at the kill | last of them completed after s | runs around the kill | p50 s | p99 s | max s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.node} | ${r.ackedAtKill} | ${s(r.backAt - r.killedAt)} | ${s(r.gap)} | ${r.inFlight} | ${s(r.lastInFlight)} | ${r.runs} | ${s(r.p50)} | ${s(r.p99)} | ${s(r.max)} |`,
    ),
    '',
    history
      ? `Shard handover (tdbg: admin DescribeCluster, then DescribeHistoryHost per history node, polled): before the kill ${formatShardMap(history.before)}; every shard on the survivor ${s(history.movedAfterMs)} s after the kill (${formatShardMap(history.down)}); history-1 owning shards again ${s(history.backAfterMs)} s after its restart (${formatShardMap(history.back)}).`
      : '',
    '',
    `Runs around a kill: started from ${AROUND_MS / 1000} s before it until ${AROUND_MS / 1000} s after its node was back in its ring; latency is Temporal's close time less its start time. The longest gap in completions is the longest stretch between the kill and the node's return in which no run completed anywhere; the runs in flight at the kill (started before it, closed after) show how long the work on the killed node waited: for the history node, its shards' handover. A killed node is started again ${DOWN_MS / 1000} s after the kill (the history node once its shards have moved, if that takes longer). One machine runs everything, so the figures bound what the faults cost rather than measure a production cluster.`,
  ].join('\n');
  await writeFile(`${RESULTS}.json`, `${JSON.stringify(data, null, 2)}\n`);
  await writeFile(`${RESULTS}.md`, `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
}

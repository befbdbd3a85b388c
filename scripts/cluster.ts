// `npm run cluster [-- --port 3100 --temporal-port 17233 --ui-port 18233 --fresh --nodes]`: the
// production topology on this machine (PostgreSQL, the Temporal server on it with its Web UI, Redis,
// 2 APIs behind a round-robin proxy, 3 workers), data under .data/cluster. With --nodes the Temporal
// server runs as a multi-node cluster (2 frontends behind a load balancer, 2 history, 2 matching,
// 1 internal worker; 16 shards), data under .data/cluster-nodes, the history shard map is printed
// at start and whenever it changes, and a node whose process ends is started again after 10 s. Ctrl-C stops all of it, workers draining first. What it starts is recorded in .data/cluster/dev.pids.json and stopped however it
// ends: by a watchdog as soon as this process is gone (SIGKILL included), else at the next start.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { claim, reapOrphans, release, runningOwner, startWatchdog } from '../src/main/dev/processes.js';
import { mintToken } from '../src/shared/tokens.js';
import { recordChildrenIn } from './cluster-processes.js';
import { formatShardMap, type TemporalNodes } from './cluster-temporal.js';
import { startCluster, type Cluster } from './cluster-topology.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3100' },
    'temporal-port': { type: 'string', default: '17233' },
    // Not 8233: `npm run dev`'s Web UI may be running beside the cluster.
    'ui-port': { type: 'string', default: '18233' },
    fresh: { type: 'boolean', default: false },
    nodes: { type: 'boolean', default: false },
  },
});
// Apart from the single-process cluster's: the shard count is fixed in Temporal's databases.
const dataDir = join(import.meta.dirname, '..', '.data', values.nodes ? 'cluster-nodes' : 'cluster');

/** One line on stderr and exit 1: no stack trace; the watchdog stops whatever is left. */
function fail(line: string): never {
  process.stderr.write(`npm run cluster: ${line}\n`);
  process.exit(1);
}

const owner = runningOwner(dataDir);
if (owner) fail(`another npm run cluster (pid ${owner.pid}) is running on ${dataDir}; stop it first`);
for (const o of await reapOrphans(dataDir))
  process.stderr.write(`stopped the ${o.name} (pid ${o.pid}) a previous npm run cluster left running\n`);
if (values.fresh) await rm(dataDir, { recursive: true, force: true });
await mkdir(dataDir, { recursive: true });
claim(dataDir);
startWatchdog(dataDir);
recordChildrenIn(dataDir);

let stopping = false;
let cluster: Cluster | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping: APIs, workers (draining), Redis, Web UI, Temporal, PostgreSQL\n');
    // Up: stopped in order. Still starting: every child recorded so far is reaped below.
    void (cluster?.stop() ?? Promise.resolve()).then(async () => {
      await reapOrphans(dataDir, [], 5_000);
      release(dataDir);
      process.exit(0);
    });
  });
}

process.stderr.write('starting the cluster (the first start builds the Temporal server and its Web UI: minutes)\n');
// Until it is up, any failure is one line, not a stack trace; the watchdog stops what was started.
const failStart = (err: unknown) => fail(`could not start: ${oneLine(err)}`);
process.once('uncaughtException', failStart);
try {
  cluster = await startCluster({
    dataDir,
    proxyPort: Number(values.port),
    temporalPort: Number(values['temporal-port']),
    uiPort: Number(values['ui-port']),
    nodes: values.nodes,
    logLevel: 'info',
  });
} catch (err) {
  // startCluster stopped what it had started; anything that escaped it is reaped here.
  await reapOrphans(dataDir, [], 5_000);
  release(dataDir);
  fail(`could not start: ${oneLine(err)}`);
}
process.off('uncaughtException', failStart);
if (stopping) await new Promise(() => undefined); // the signal handler above ends the process
printBanner(cluster, await token(cluster));
if (cluster.temporalNodes) {
  void watchShards(cluster.temporalNodes);
  void superviseNodes(cluster.temporalNodes);
}

/** Prints the history shard map now and whenever it changes (polled every 5 s), until stopped. */
async function watchShards(nodes: TemporalNodes): Promise<void> {
  let last = '';
  while (!stopping) {
    const map = await nodes.shardMap().catch((err: unknown) => `unreadable: ${oneLine(err)}`);
    const text = typeof map === 'string' ? map : formatShardMap(map);
    if (text !== last) process.stdout.write(`${new Date().toISOString()} history shards: ${text}\n`);
    last = text;
    await new Promise((r) => setTimeout(r, 5_000));
  }
}

/**
 * Starts a Temporal node again 10 s after its process ended (`kill -9` one to watch its shards or
 * partitions move and come back), as Kubernetes restarts a pod.
 */
async function superviseNodes(nodes: TemporalNodes): Promise<void> {
  const restarting = new Set<string>();
  while (!stopping) {
    for (const node of nodes.nodes) {
      if (restarting.has(node.name) || !node.exited()) continue;
      restarting.add(node.name);
      process.stdout.write(`${new Date().toISOString()} Temporal ${node.name} exited; starting it again in 10 s\n`);
      void new Promise((r) => setTimeout(r, 10_000))
        .then(() => (stopping ? undefined : node.start()))
        .then(
          () => !stopping && process.stdout.write(`${new Date().toISOString()} Temporal ${node.name} is back\n`),
          (err: unknown) => process.stderr.write(`Temporal ${node.name} did not come back: ${oneLine(err)}\n`),
        )
        .finally(() => restarting.delete(node.name));
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' | ').slice(0, 600);
}

function token(c: Cluster): Promise<string> {
  return mintToken(c.authSecret, { tenant: 'default', scopes: ['admin'], ttl: '12h', audience: 'mini-zaps' });
}

function printBanner(c: Cluster, token: string): void {
  const nodes = c.temporalNodes
    ? `  Temporal nodes        ${c.temporalNodes.nodes.map((n) => `${n.name} ${n.address}`).join('  ')} (gRPC above: their frontends' balancer)\n`
    : '';
  process.stdout.write(`
Mini-Zaps production topology is up (logs in ${c.logDir})
  API (load balancer)   ${c.apiUrl}   docs ${c.apiUrl}/docs   console ${c.apiUrl}/ui
  API replicas          ${c.apis.map((a) => a.url).join('  ')}
  workers (/metrics)    ${c.workers.map((w) => w.url).join('  ')}
  Temporal (gRPC)       ${c.temporal.address}   namespace ${c.namespace}   metrics ${c.temporal.metricsUrl}
${nodes}  Temporal Web UI       ${c.ui.url}/namespaces/${c.namespace}/workflows
  PostgreSQL            ${c.pg.appUrl.replace(/:[^:@/]+@/, ':***@')} (Temporal: temporal, temporal_visibility)
  Redis                 ${c.redisUrl}

An admin token (12 h):
  export TOKEN=${token}
  curl -s -H "authorization: Bearer $TOKEN" ${c.apiUrl}/v1/workflows
Ctrl-C stops everything.
`);
}

// `npm run cluster [-- --port 3100 --temporal-port 17233 --ui-port 18233 --fresh]`: the production
// topology on this machine (PostgreSQL, the Temporal server on it with its Web UI, Redis, 2 APIs
// behind a round-robin proxy, 3 workers), data under .data/cluster. Ctrl-C stops all of it, workers draining first.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mintToken } from '../src/shared/tokens.js';
import { startCluster } from './cluster-topology.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3100' },
    'temporal-port': { type: 'string', default: '17233' },
    // Not 8233: `npm run dev`'s Web UI may be running beside the cluster.
    'ui-port': { type: 'string', default: '18233' },
    fresh: { type: 'boolean', default: false },
  },
});
const dataDir = join(import.meta.dirname, '..', '.data', 'cluster');
if (values.fresh) await rm(dataDir, { recursive: true, force: true });
process.stderr.write('starting the cluster (the first start builds the Temporal server and its Web UI: minutes)\n');
const cluster = await startCluster({
  dataDir,
  proxyPort: Number(values.port),
  temporalPort: Number(values['temporal-port']),
  uiPort: Number(values['ui-port']),
  logLevel: 'info',
});
const token = await mintToken(cluster.authSecret, {
  tenant: 'default',
  scopes: ['admin'],
  ttl: '12h',
  audience: 'mini-zaps',
});
process.stdout.write(`
Mini-Zaps production topology is up (logs in ${cluster.logDir})
  API (load balancer)   ${cluster.apiUrl}   docs ${cluster.apiUrl}/docs   console ${cluster.apiUrl}/ui
  API replicas          ${cluster.apis.map((a) => a.url).join('  ')}
  workers (/metrics)    ${cluster.workers.map((w) => w.url).join('  ')}
  Temporal (gRPC)       ${cluster.temporal.address}   namespace ${cluster.namespace}   metrics ${cluster.temporal.metricsUrl}
  Temporal Web UI       ${cluster.ui.url}/namespaces/${cluster.namespace}/workflows
  PostgreSQL            postgres://${cluster.pg.user}:${cluster.pg.password}@${cluster.pg.host}:${cluster.pg.port}/minizaps (Temporal: temporal, temporal_visibility)
  Redis                 ${cluster.redisUrl}

An admin token (12 h):
  export TOKEN=${token}
  curl -s -H "authorization: Bearer $TOKEN" ${cluster.apiUrl}/v1/workflows
Ctrl-C stops everything.
`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping: APIs, workers (draining), Redis, Web UI, Temporal, PostgreSQL\n');
    void cluster.stop().then(() => process.exit(0));
  });
}

import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { ClusterPostgres } from './cluster-postgres.js';
import { run, spawnLogged, stopProcess, until } from './cluster-processes.js';
import { startTcpProxy } from './cluster-proxy.js';

const CONFIG_DIR = join(import.meta.dirname, '..', 'temporal-config');

/** The ports server.yaml derives from TEMPORAL_PORT (frontend gRPC). */
export const TEMPORAL_PORT_OFFSETS = [0, 1, 2, 6, 10, 100, 101, 102, 106, 767] as const;

export interface TemporalServer {
  address: string;
  metricsUrl: string;
  /** Stops the server (SIGTERM) and starts it again on the same databases. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds (or reuses) the server in .tools/, prints where it is. */
export const buildTemporalServer = (): Promise<string> => run(join(CONFIG_DIR, 'build.sh'), []);

/**
 * The real Temporal server on the topology's PostgreSQL: schemas created and migrated, server
 * started from temporal-config/server.yaml, namespace and search attributes registered.
 */
export async function startTemporalServer(opts: {
  pg: ClusterPostgres;
  port: number;
  namespace: string;
  retention: string;
  logDir: string;
}): Promise<TemporalServer> {
  const address = `127.0.0.1:${opts.port}`;
  const env = {
    TEMPORAL_DB_HOST: opts.pg.host,
    TEMPORAL_DB_PORT: String(opts.pg.port),
    TEMPORAL_DB_USER: opts.pg.user,
    TEMPORAL_DB_PASSWORD: opts.pg.password,
    TEMPORAL_PORT: String(opts.port),
    TEMPORAL_BIND_IP: '127.0.0.1',
  };
  await run(join(CONFIG_DIR, 'setup-schema.sh'), [], env);
  let child: ChildProcess | undefined;
  const start = async () => {
    child = await spawnLogged('temporal-server', join(CONFIG_DIR, 'start.sh'), [], env, opts.logDir);
    await until(`the Temporal server at ${address}`, () => answers(address), 300_000);
  };
  try {
    await start();
    await run(join(CONFIG_DIR, 'register.sh'), [], {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: opts.namespace,
      TEMPORAL_RETENTION: opts.retention,
    });
  } catch (err) {
    if (child) await stopProcess(child);
    throw err;
  }
  return {
    address,
    metricsUrl: `http://127.0.0.1:${opts.port + 767}/metrics`,
    async restart() {
      if (child) await stopProcess(child);
      await start();
    },
    async stop() {
      if (child) await stopProcess(child);
    },
  };
}

async function answers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/** A Temporal service a node of the multi-node layout runs. */
export type TemporalService = 'frontend' | 'history' | 'matching' | 'worker';

/** The multi-node layout: one process per node, each running one service, in start order. */
export const TEMPORAL_NODES: readonly { name: string; service: TemporalService }[] = [
  { name: 'frontend-1', service: 'frontend' },
  { name: 'frontend-2', service: 'frontend' },
  { name: 'history-1', service: 'history' },
  { name: 'history-2', service: 'history' },
  { name: 'matching-1', service: 'matching' },
  { name: 'matching-2', service: 'matching' },
  { name: 'worker-1', service: 'worker' },
];

/** History shards of the multi-node layout (fixed when its databases are created). */
export const TEMPORAL_NODES_SHARDS = 16;

/** The gRPC port of each service around a node's TEMPORAL_PORT (server.yaml). */
const SERVICE_OFFSET: Record<TemporalService, number> = { frontend: 0, history: 1, matching: 2, worker: 6 };

/**
 * The ports a multi-node cluster takes around its base: the frontends' load balancer at the base,
 * node i's TEMPORAL_PORT at base + 1000·(i + 1), with server.yaml's offsets around it.
 */
export const TEMPORAL_NODES_PORT_OFFSETS = [
  0,
  ...TEMPORAL_NODES.flatMap((_, i) => TEMPORAL_PORT_OFFSETS.map((o) => o + 1000 * (i + 1))),
] as const;

/** One node of the multi-node layout. */
export interface TemporalNode {
  name: string;
  service: TemporalService;
  /** Its gRPC address, as membership names it. */
  address: string;
  /** Stops it with `signal` (SIGKILL by default: a crash). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it; settles once membership lists it. */
  start(): Promise<void>;
  /** Whether its process has ended (killed, or crashed) since it was last started. */
  exited(): boolean;
}

/** Which history node owns which shards, as the history nodes themselves report it. */
export type ShardMap = Record<string, number[]>;

export interface TemporalNodes extends TemporalServer {
  nodes: TemporalNode[];
  /** The members of each service's ring, by node name, as the frontends' membership sees them. */
  rings(): Promise<Record<TemporalService, string[]>>;
  /** The history shards each history node owns (admin DescribeCluster, then DescribeHistoryHost per node). */
  shardMap(): Promise<ShardMap>;
}

/**
 * The real Temporal server as a multi-node cluster on the topology's PostgreSQL: the same binary
 * started once per node of TEMPORAL_NODES with `--service <its service>` (start.sh's
 * TEMPORAL_SERVICES), each on its own ports, finding the others through membership; 16 history
 * shards; the frontends behind a TCP load balancer at `port`, the address clients and the Web UI
 * use. Shard ownership is read with tdbg, the server's admin CLI.
 */
export async function startTemporalNodes(opts: {
  pg: ClusterPostgres;
  /** The load balancer's port; node i at port + 1000·(i + 1) (TEMPORAL_NODES_PORT_OFFSETS). */
  port: number;
  namespace: string;
  retention: string;
  logDir: string;
}): Promise<TemporalNodes> {
  const address = `127.0.0.1:${opts.port}`;
  const tdbgBin = join(await buildTemporalServer(), 'tdbg');
  const db = {
    TEMPORAL_DB_HOST: opts.pg.host,
    TEMPORAL_DB_PORT: String(opts.pg.port),
    TEMPORAL_DB_USER: opts.pg.user,
    TEMPORAL_DB_PASSWORD: opts.pg.password,
  };
  await run(join(CONFIG_DIR, 'setup-schema.sh'), [], db);
  const nameOf = new Map<string, string>();
  const frontends: string[] = [];
  const children = new Map<string, ChildProcess>();
  const spawners: (() => Promise<void>)[] = [];
  const tdbg = async (args: string[]): Promise<unknown> =>
    JSON.parse(await run(tdbgBin, ['--address', address, '--context-timeout', '10', ...args]));
  const rings = async (): Promise<Record<TemporalService, string[]>> => {
    const found = (await tdbg(['membership', 'list-gossip'])) as { role?: string; members?: { identity?: string }[] }[];
    const out: Record<TemporalService, string[]> = { frontend: [], history: [], matching: [], worker: [] };
    for (const ring of found) {
      if (!ring.role || !(ring.role in out)) continue;
      out[ring.role as TemporalService] = (ring.members ?? [])
        .map((m) => nameOf.get(m.identity ?? '') ?? m.identity ?? '')
        .sort();
    }
    return out;
  };
  const nodes: TemporalNode[] = TEMPORAL_NODES.map(({ name, service }, i) => {
    const base = opts.port + 1000 * (i + 1);
    const nodeAddress = `127.0.0.1:${base + SERVICE_OFFSET[service]}`;
    nameOf.set(nodeAddress, name);
    if (service === 'frontend') frontends.push(nodeAddress);
    const env = {
      ...db,
      TEMPORAL_PORT: String(base),
      TEMPORAL_BIND_IP: '127.0.0.1',
      TEMPORAL_SERVICES: service,
      TEMPORAL_NUM_SHARDS: String(TEMPORAL_NODES_SHARDS),
      TEMPORAL_DB_MAX_CONNS: '10',
      // The same on every node: the cluster metadata records them, and a node whose values
      // differ rewrites it (nodes starting together then race on its version).
      TEMPORAL_FRONTEND_ADDRESS: address,
      TEMPORAL_FRONTEND_HTTP_ADDRESS: `127.0.0.1:${opts.port + 1000 + 10}`,
    };
    const spawn = async () =>
      void children.set(
        name,
        await spawnLogged(`temporal-${name}`, join(CONFIG_DIR, 'start.sh'), [], env, opts.logDir),
      );
    spawners.push(spawn);
    return {
      name,
      service,
      address: nodeAddress,
      async kill(signal = 'SIGKILL') {
        const child = children.get(name);
        if (child) await stopProcess(child, signal);
      },
      async start() {
        await spawn();
        await inRings([name]);
      },
      exited() {
        const child = children.get(name);
        return !!child && (child.exitCode !== null || child.signalCode !== null);
      },
    };
  });
  /** Waits until membership lists every node of `names` in its service's ring (tdbg runs once a second). */
  const inRings = (names: readonly string[]) =>
    until(
      `${names.join(', ')} in their services' rings (see ${opts.logDir}/temporal-<node>.log)`,
      async () => {
        const members = Object.values(await rings()).flat();
        return names.every((n) => members.includes(n));
      },
      300_000,
      1_000,
    );
  const proxy = await startTcpProxy(frontends, opts.port);
  const stopNodes = async () => {
    // Frontends first (no new work), the internal worker, matching, then history.
    for (const node of [...nodes].reverse()) await node.kill('SIGTERM');
  };
  const shardMap = async (): Promise<ShardMap> => {
    const map: ShardMap = {};
    for (const member of (await rings()).history) {
      const host = [...nameOf.entries()].find(([, n]) => n === member)?.[0] ?? member;
      const described = (await tdbg(['history-host', 'describe', '--history-address', host, '--print-full'])) as {
        shardIds?: number[];
      };
      map[member] = [...(described.shardIds ?? [])].sort((a, b) => a - b);
    }
    return map;
  };
  const startAll = async () => {
    // The first node alone creates the cluster metadata on new databases; then the others.
    const [first, ...rest] = spawners;
    await first?.();
    await inRings(nodes.slice(0, 1).map((n) => n.name));
    for (const spawn of rest) await spawn();
    await inRings(nodes.map((n) => n.name));
    // Ready when the history nodes share every shard, each owned once.
    const history = nodes.filter((n) => n.service === 'history').map((n) => n.name);
    await until(
      `the ${TEMPORAL_NODES_SHARDS} history shards to be shared by ${history.join(' and ')}`,
      async () => shardMapProblem(await shardMap(), history) === undefined,
      300_000,
      1_000,
    );
  };
  try {
    await startAll();
    await run(join(CONFIG_DIR, 'register.sh'), [], {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: opts.namespace,
      TEMPORAL_RETENTION: opts.retention,
    });
  } catch (err) {
    await stopNodes();
    await proxy.close();
    throw err;
  }
  return {
    address,
    metricsUrl: `http://127.0.0.1:${opts.port + 1000 + 767}/metrics`,
    nodes,
    rings,
    shardMap,
    async restart() {
      await stopNodes();
      await startAll();
    },
    async stop() {
      await stopNodes();
      await proxy.close();
    },
  };
}

/** `history-1 0,2,5 | history-2 1,3,4`: one line for a shard map. */
export function formatShardMap(map: ShardMap): string {
  const entries = Object.entries(map).sort(([a], [b]) => a.localeCompare(b));
  return entries.length
    ? entries.map(([node, shards]) => `${node} ${shards.join(',') || '–'}`).join(' | ')
    : 'none owned';
}

/** Why `map` is not every shard owned once, by exactly the history nodes `owners` (each owning some); undefined if it is. */
export function shardMapProblem(map: ShardMap, owners: readonly string[]): string | undefined {
  const owned = Object.entries(map).filter(([, shards]) => shards.length > 0);
  const all = owned.flatMap(([, shards]) => shards).sort((a, b) => a - b);
  // Shard ids run from 1.
  const every = Array.from({ length: TEMPORAL_NODES_SHARDS }, (_, i) => i + 1);
  if (all.join() !== every.join()) return `shards not owned once each: ${formatShardMap(map)}`;
  const names = owned.map(([n]) => n).sort();
  if (names.join() !== [...owners].sort().join())
    return `owners ${names.join(', ')} instead of ${owners.join(', ')}: ${formatShardMap(map)}`;
  return undefined;
}

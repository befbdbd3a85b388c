// What a benchmark measures with: the benchmarked job, CPU time from /proc, memory, percentiles,
// closed-loop throughput and the results files. How it starts its stack is in stack.ts.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import type { Definition } from '../src/definitions/schema.js';

/** The benchmarked job: trigger → transform → http POST to `url` → transform. */
export const threeStepJob = (url: string): Definition => ({
  name: 'bench: transform → http → transform',
  steps: [
    { id: 'before', type: 'transform', config: { expression: '{ "n": trigger.n * 2 }' } },
    { id: 'call', type: 'http', config: { method: 'POST', url, body: '{{ steps.before.output }}' } },
    {
      id: 'after',
      type: 'transform',
      config: { expression: '{ "status": steps.call.output.status, "n": trigger.n }' },
    },
  ],
});

/** Resident memory of a process, in MB. */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** Kernel clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat's times on Linux. */
const TICKS_PER_SECOND = 100;

/** A process's own CPU time and that of its reaped children so far, in ms; 0 once it is gone. */
async function ownCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields from the 3rd (state) on: the command name before them may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i] ?? 0), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** CPU time (user + system, ms) of each thread of a process so far, summed by thread name (its `comm`; the main thread apart). */
export async function threadCpuMs(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(') '));
    const name = tid === String(pid) ? `${comm} (main thread)` : comm;
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const ms = ((Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 1000) / TICKS_PER_SECOND;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  return byName;
}

/** A process and all its descendants. */
export async function processTree(pid: number): Promise<number[]> {
  const children = await Promise.all((await childrenOf(pid)).map(processTree));
  return [pid, ...children.flat()];
}

async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const lists = await Promise.all(
    tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((l) => l.split(' ').filter(Boolean).map(Number));
}

/**
 * CPU time (user + system) a process and all its descendants used so far, in ms. A child that ends
 * between two readings moves from its own counters to its parent's reaped-children counters, so
 * the difference of two readings stays whole.
 */
export async function cpuMs(pid: number): Promise<number> {
  const own = await ownCpuMs(pid);
  const children = await Promise.all((await childrenOf(pid)).map(cpuMs));
  return children.reduce((n, c) => n + c, own);
}

/**
 * PostgreSQL's CPU time, in ms, as two readers: `app`, the backends serving the application's
 * database (the run index, claim checks), and `rest`, everything else (Temporal's databases when it
 * persists here, background writers). An app backend that ends (a pool closing an idle connection)
 * keeps counting its last reading to `app`, so neither reader runs backwards.
 */
export function postgresCpu(
  postmasterPid: number,
  appDatabase = 'minizaps',
): { app: () => Promise<number>; rest: () => Promise<number> } {
  // Keyed by pid and start time, as pids are reused.
  const appBackends = new Map<string, number>();
  const read = async () => {
    const total = await cpuMs(postmasterPid);
    for (const pid of await childrenOf(postmasterPid)) {
      // A backend's title: "postgres: <user> <database> <host>(<port>) <activity>".
      const title = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split(' ');
      if (title[0] !== 'postgres:' || title[2] !== appDatabase) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const startTime = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
      appBackends.set(`${pid}@${startTime}`, await cpuMs(pid));
    }
    const app = [...appBackends.values()].reduce((n, ms) => n + ms, 0);
    return { app, rest: total - app };
  };
  return { app: async () => (await read()).app, rest: async () => (await read()).rest };
}

/** This process's own CPU time so far, in ms. */
export const selfCpuMs = async (): Promise<number> => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Named readers of CPU time in ms (a process kind each), compared before and after a batch. */
export type CpuProbe = Record<string, () => Promise<number>>;

/** Reads every probe at once. */
export async function readCpu(probe: CpuProbe): Promise<Record<string, number>> {
  const entries = await Promise.all(Object.entries(probe).map(async ([k, read]) => [k, await read()] as const));
  return Object.fromEntries(entries);
}

/** CPU ms per run of each probe between two readings, rounded to 0.1 ms. */
export function cpuPerRun(
  before: Record<string, number>,
  after: Record<string, number>,
  runs: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, Math.round(((after[k]! - (before[k] ?? 0)) / runs) * 10) / 10]),
  );
}

export interface Throughput {
  runs: number;
  seconds: number;
  perSecond: number;
  latencyMs: Percentiles;
  /** Every run's latency, so rounds can be pooled. */
  samplesMs: number[];
}
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Runs `total` executions with at most `inFlight` at once; each `run` resolves when its run completed. */
export async function throughput(
  total: number,
  inFlight: number,
  run: (i: number) => Promise<unknown>,
): Promise<Throughput> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = performance.now();
        await run(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    runs: total,
    seconds: Math.round(seconds * 100) / 100,
    perSecond: Math.round((total / seconds) * 10) / 10,
    latencyMs: percentiles(latencies),
    samplesMs: latencies,
  };
}

export async function writeResults(name: string, data: unknown, markdown: string): Promise<void> {
  await writeFile(new URL(`./results/${name}.json`, import.meta.url), `${JSON.stringify(data, null, 2)}\n`);
  await writeFile(new URL(`./results/${name}.md`, import.meta.url), `${markdown}\n`);
  process.stdout.write(`${markdown}\n\n`);
}

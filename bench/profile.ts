// `npm run bench -- profile`: where the CPU of a run goes in the API process running its own worker
// (the cluster benchmark's fastest configuration), on the PostgreSQL-backed Temporal server. The
// process runs under V8's sampling profiler (--cpu-prof, every thread: the main one and the
// workflow threads); only samples taken while the measured runs went count. Self time is grouped
// by where the code comes from, and the heaviest functions are listed. BENCH_PROFILE_RUNS sizes it;
// BENCH_PROFILE_KEEP=1 keeps the .cpuprofile files.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReceiver } from '../test/helpers/receiver.js';
import { threadCpuMs, threeStepJob, throughput, writeResults } from './harness.js';
import { envFlag, envNumber, startApiProcess, startPostgresInfra } from './stack.js';

const RUNS = envNumber('BENCH_PROFILE_RUNS', 600);
const IN_FLIGHT = 30;
const ROOT = new URL('..', import.meta.url).pathname;

/** The parts of V8's .cpuprofile format read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function's code comes from: a package, Node itself, the workflow bundle, or this repository's file. */
function origin(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url.slice(url.lastIndexOf('node_modules/')));
  if (pkg) return pkg[1]!;
  if (url.endsWith('workflow-bundle.js')) return 'workflow bundle (interpreter, SDK workflow runtime)';
  const file = url.replace(/^file:\/\//, '');
  return file.startsWith(ROOT) ? file.slice(ROOT.length) : file;
}

/** Self time (ms) by origin and by function, of the samples taken in [from, to] (µs, V8's monotonic clock). */
function account(
  profile: CpuProfile,
  from: number,
  to: number,
  byOrigin: Map<string, number>,
  byFn: Map<string, number>,
) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) continue;
    const frame = nodes.get(profile.samples[i]!);
    if (!frame || frame.functionName === '(idle)') continue;
    const where = origin(frame.url, frame.functionName);
    const ms = delta / 1000;
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + ms);
    const fn = `${frame.functionName || '(anonymous)'} (${where}${frame.url ? `:${frame.lineNumber + 1}` : ''})`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
  }
}

/** The monotonic clock V8 stamps profiles with (CLOCK_MONOTONIC), in µs. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export async function profileBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-profile-'));
  const receiver = await startReceiver();
  receiver.accept('/bench');
  const infra = await startPostgresInfra();
  let window: [number, number] = [0, 0];
  let seconds = 0;
  const threads = new Map<string, number>();
  try {
    const api = await startApiProcess(infra, { worker: true, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    try {
      const workflowId = await api.createWorkflow(threeStepJob(`${receiver.url}/bench`));
      const run = async (n: number) => {
        const { runId } = JSON.parse(
          await api.call('POST', `/v1/workflows/${workflowId}/runs`, JSON.stringify({ n })),
        ) as { runId: string };
        return infra.client.workflow.getHandle(runId).result();
      };
      await throughput(50, 10, run);
      const pid = api.child.pid ?? 0;
      const before = await threadCpuMs(pid);
      const from = monotonicUs();
      const t = await throughput(RUNS, IN_FLIGHT, run);
      window = [from, monotonicUs()];
      for (const [name, ms] of await threadCpuMs(pid)) threads.set(name, ms - (before.get(name) ?? 0));
      seconds = t.seconds;
    } finally {
      // The profiles are written as the process exits.
      await api.close();
    }
  } finally {
    await infra.stop();
    await receiver.close();
  }
  const byOrigin = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')))
    account(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile, ...window, byOrigin, byFn);
  // BENCH_PROFILE_KEEP=1 keeps the profiles, to open in Chrome's DevTools.
  if (envFlag('BENCH_PROFILE_KEEP')) process.stdout.write(`profiles kept in ${dir}\n`);
  else await rm(dir, { recursive: true, force: true });
  const total = [...byOrigin.values()].reduce((a, b) => a + b, 0);
  const perRun = (ms: number) => Math.round((ms / RUNS) * 100) / 100;
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, msPerRun: perRun(ms), share: ms / total }));
  const origins = top(byOrigin, 25);
  const threadTotal = [...threads.values()].reduce((a, b) => a + b, 0);
  const byThread = [...threads]
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => ({ name, msPerRun: perRun(ms), share: ms / threadTotal }));
  const functions = top(byFn, 40);
  const row = (r: { name: string; msPerRun: number; share: number }) =>
    `| ${r.name.replaceAll('|', '\\|')} | ${r.msPerRun} | ${Math.round(r.share * 1000) / 10}% |`;
  await writeResults(
    'profile',
    {
      startedAt: new Date().toISOString(),
      runs: RUNS,
      inFlight: IN_FLIGHT,
      seconds,
      msPerRun: perRun(total),
      origins,
      functions,
    },
    [
      `## Profile: the API process with its own worker, trigger → http → transform on the PostgreSQL-backed server (${RUNS} runs, ${IN_FLIGHT} in flight, ${Math.round((RUNS / seconds) * 10) / 10} runs/s under the profiler)`,
      '',
      `CPU time by thread (from /proc, user + system), ${perRun(threadTotal)} ms per run (\`v8:ProfEvntProc\` is the profiler's own; the workflow thread is the \`node\` one beside the main thread):`,
      '',
      '| thread | CPU ms per run | share |',
      '|---|---|---|',
      ...byThread.map(row),
      '',
      `JavaScript threads' self time in the measured window, ${perRun(total)} ms per run (V8's samples count a thread's time while it runs JavaScript or waits in a native call, so they add up to more than its CPU; the SDK's Rust core runs on threads of its own and is not in them).`,
      '',
      '| where the code comes from | ms per run | share |',
      '|---|---|---|',
      ...origins.map(row),
      '',
      '| function | ms per run | share |',
      '|---|---|---|',
      ...functions.map(row),
    ].join('\n'),
  );
}

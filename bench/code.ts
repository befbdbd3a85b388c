// The `code` case of `npm run bench`: a JavaScript code step doing a small transform against the
// same transform as a JSONata transform step, one step per run, in interleaved rounds.
import type { Client } from '@temporalio/client';
import { DEFAULT_RUN_LIMITS } from '../src/shared/run-limits.js';
import type { Definition } from '../src/definitions/schema.js';
import { buildRunInput } from '../src/runs/run-input.js';
import { cpuMs, cpuPerRun, readCpu, selfCpuMs, throughput, writeResults, type Throughput } from './harness.js';
import { TASK_QUEUE } from './stack.js';

/** Twenty order lines, some with nothing ordered: the transform drops those, totals the rest. */
const lines = Array.from({ length: 20 }, (_, i) => ({ sku: `sku-${i}`, price: 1.5 * i, qty: i % 4 }));

const definitions: Record<'javascript' | 'jsonata', Definition> = {
  javascript: {
    name: 'bench: code step',
    steps: [
      {
        id: 'shape',
        type: 'code',
        config: {
          language: 'javascript',
          input: '{{ trigger.lines }}',
          source:
            'const kept = input.filter((l) => l.qty > 0).map((l) => ({ sku: l.sku.toUpperCase(), total: l.price * l.qty }));\n' +
            'return { lines: kept, total: kept.reduce((s, l) => s + l.total, 0) };',
        },
      },
    ],
  },
  jsonata: {
    name: 'bench: JSONata transform',
    steps: [
      {
        id: 'shape',
        type: 'transform',
        config: {
          expression:
            '( $kept := trigger.lines[qty > 0].{ "sku": $uppercase(sku), "total": price * qty }; { "lines": [$kept], "total": $sum($kept.total) } )',
        },
      },
    ],
  },
};

/**
 * Runs of each kind in `rounds` rounds of `perRound`, `inFlight` at once, started with the
 * client (as a trigger would, connector defaults stamped); CPU read from /proc per process.
 */
export async function codeBench(opts: {
  client: Client;
  workerPid: number;
  serverPid: number;
  rounds: number;
  perRound: number;
  inFlight: number;
}): Promise<void> {
  let seq = 0;
  const start = (kind: keyof typeof definitions) => (i: number) =>
    opts.client.workflow.execute('interpreter', {
      taskQueue: TASK_QUEUE,
      workflowId: `code-bench-${kind}-${Date.now()}-${seq++}`,
      args: [
        buildRunInput(DEFAULT_RUN_LIMITS, {
          tenantId: 'bench',
          workflow: { id: `bench-${kind}`, version: 1, definition: definitions[kind] },
          payload: { n: i, lines },
          source: { type: 'api' },
        }),
      ],
    });
  const kinds = { javascript: start('javascript'), jsonata: start('jsonata') };
  const [first, second] = [await kinds.javascript(0), await kinds.jsonata(0)];
  if (JSON.stringify(first) !== JSON.stringify(second))
    throw new Error(`the two transforms disagree: ${JSON.stringify(first)} / ${JSON.stringify(second)}`);
  const probe = { server: () => cpuMs(opts.serverPid), worker: () => cpuMs(opts.workerPid), client: selfCpuMs };
  const results: Record<keyof typeof kinds, Throughput[]> = { javascript: [], jsonata: [] };
  const cpu: Record<keyof typeof kinds, Record<string, number>> = { javascript: {}, jsonata: {} };
  for (const kind of ['javascript', 'jsonata'] as const) await throughput(Math.min(50, opts.perRound), 10, kinds[kind]);
  for (let r = 0; r < opts.rounds; r++) {
    for (const kind of r % 2 ? (['jsonata', 'javascript'] as const) : (['javascript', 'jsonata'] as const)) {
      const before = await readCpu(probe);
      results[kind].push(await throughput(opts.perRound, opts.inFlight, kinds[kind]));
      const after = await readCpu(probe);
      for (const [k, v] of Object.entries(after)) cpu[kind][k] = (cpu[kind][k] ?? 0) + v - before[k]!;
    }
  }
  const runs = opts.rounds * opts.perRound;
  const summary = (kind: keyof typeof kinds) => {
    const seconds = results[kind].reduce((n, t) => n + t.seconds, 0);
    return { runsPerSecond: Math.round((runs / seconds) * 10) / 10, cpuMsPerRun: cpuPerRun({}, cpu[kind], runs) };
  };
  const data = {
    runsEach: runs,
    rounds: opts.rounds,
    inFlight: opts.inFlight,
    javascript: summary('javascript'),
    jsonata: summary('jsonata'),
  };
  const worker = (k: keyof typeof kinds) => data[k].cpuMsPerRun.worker ?? 0;
  const row = (name: string, k: keyof typeof kinds) =>
    `| ${name} | ${data[k].runsPerSecond} | ${worker(k)} | ${data[k].cpuMsPerRun.server ?? 0} |`;
  await writeResults(
    'code',
    data,
    [
      `## Code step against JSONata (${runs} one-step runs each in ${opts.rounds} rounds, ${opts.inFlight} in flight, one worker)`,
      '',
      '| step | runs/s | CPU ms/step: worker | server |',
      '|---|---|---|---|',
      row('`code`: JavaScript in a QuickJS sandbox thread (local activity)', 'javascript'),
      row('`transform`: the same in JSONata (in the workflow)', 'jsonata'),
      '',
      `The transform: twenty order lines, the empty ones dropped, SKUs upper-cased, a total per line and overall; both give the same output (checked). One step per run, so a run's CPU is its step's plus the run's own. The code step costs the worker **${Math.round((worker('javascript') - worker('jsonata')) * 10) / 10} ms** more per step than JSONata: the local activity, the run context and input passed to a sandbox thread, a fresh QuickJS runtime and context, the JSON result back.`,
    ].join('\n'),
  );
}

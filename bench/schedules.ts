// `npm run bench:schedules`: BENCH_SCHEDULES (1,000) schedule triggers created through the API
// (the creation rate is a figure), each firing every minute for BENCH_SCHEDULE_FIRES (3) minutes,
// and the distribution of start delays: how long after its scheduled time each firing's workflow
// started (Temporal's schedule), and each run (the firing's child, the run the user sees). Every
// schedule gets the same startAt and endAt, on minute boundaries after the creation is expected to
// be over, so the firings measured are exactly FIRES bursts of SCHEDULES each. Bounded: the runs
// are awaited BENCH_SCHEDULE_DRAIN_S (300) seconds past the last burst. A firing is the run (the
// schedule starts the interpreter), so the start delay is the run's. The empty-workflow rate of the
// same dev server, measured after the bursts, stands beside it. Writes bench/results/schedules.*.
import { availableParallelism, loadavg } from 'node:os';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { throughput, writeResults } from './harness.js';
import { envNumber, startStack, TASK_QUEUE } from './stack.js';
import { waitFor } from '../test/helpers/ports.js';
import { devServerScheduleArgs } from '../src/triggers/schedule/temporal-schedules.js';

const SCHEDULES = envNumber('BENCH_SCHEDULES', 1000);
const FIRES = envNumber('BENCH_SCHEDULE_FIRES', 3);
const DRAIN_S = envNumber('BENCH_SCHEDULE_DRAIN_S', 300);
/** Creation is assumed no slower than this when the common start is chosen; slower creation shows as missed firings. */
const CREATE_PER_S_FLOOR = envNumber('BENCH_SCHEDULE_CREATE_PER_S', 10);
const CREATE_IN_FLIGHT = 16;
const EMPTY_RUNS = 1000;
/** What `devServerScheduleArgs()` sets on the dev server. */
const SCHEDULER_RPS = Number(devServerScheduleArgs()[1]?.split('=')[1]);
const MINUTE = 60_000;

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles, in milliseconds. */
function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

const stack = await startStack({ server: 'dev' });
const { infra, api } = stack;
try {
  const workflowId = await api.createWorkflow({
    name: 'bench: scheduled',
    steps: [{ id: 'echo', type: 'transform', config: { expression: 'run.source' } }],
  });

  // The first burst: the minute boundary after creation should be over, with a margin.
  const firstFire = Math.ceil((Date.now() + (SCHEDULES / CREATE_PER_S_FLOOR) * 1000 + 15_000) / MINUTE) * MINUTE;
  const fireTimes = Array.from({ length: FIRES }, (_, i) => firstFire + i * MINUTE);
  const lastFire = fireTimes.at(-1) ?? firstFire;
  const body = JSON.stringify({
    type: 'schedule',
    cron: '* * * * *',
    // A firing late by more than a minute would otherwise skip the next one (overlap `skip`, the default).
    overlap: 'allow_all',
    startAt: new Date(firstFire - 1000).toISOString(),
    endAt: new Date(lastFire + 1000).toISOString(),
  });
  const created = await throughput(SCHEDULES, CREATE_IN_FLIGHT, () =>
    api.call('POST', `/v1/workflows/${workflowId}/triggers`, body),
  );
  const createdBy = Date.now();
  process.stdout.write(
    `created ${SCHEDULES} schedules at ${created.perSecond}/s; bursts at ${fireTimes.map((t) => new Date(t).toISOString()).join(', ')}\n`,
  );

  // The index lists each run when it has read its trigger (scheduledAt is in its source).
  const expected = SCHEDULES * FIRES;
  const windowStart = new Date(firstFire).toISOString();
  const countRuns = async () =>
    Number(
      (
        await infra.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM runs WHERE workflow_id = $1 AND source->>'scheduledAt' >= $2`,
          [workflowId, windowStart],
        )
      ).rows[0]?.n ?? 0,
    );
  // The machine may be shared: its load over the bursts says how much of it the benchmark had.
  const loads: number[] = [];
  const sampler = setInterval(() => loads.push(loadavg()[0] ?? 0), 5000);
  const deadline = lastFire + DRAIN_S * 1000;
  let listed = 0;
  while (Date.now() < deadline) {
    listed = await countRuns();
    if (listed >= expected) break;
    await new Promise((r) => setTimeout(r, 2000));
  }

  // Times from Temporal, once every run listed has ended (visibility lags a little under load: bounded).
  const runQuery = `MiniZapsWorkflowId = '${workflowId}'`;
  const ended = `${runQuery} AND ExecutionStatus != 'Running'`;
  await waitFor(
    'the runs to end',
    async () => ((await infra.client.workflow.count(ended)).count >= listed ? true : undefined),
    120_000,
  ).catch(() => undefined);
  // Each run's start and end, and its firing's time, all as Temporal recorded them.
  const runDelays: number[] = [];
  const endDelays: number[] = [];
  const perBurst = new Map<number, number[]>(fireTimes.map((t) => [t, []]));
  let lastStart = lastFire;
  for await (const e of infra.client.workflow.list({ query: runQuery })) {
    const scheduled = e.typedSearchAttributes.get(SCHEDULED_START)?.getTime();
    if (scheduled === undefined || scheduled < firstFire) continue;
    const delay = e.startTime.getTime() - scheduled;
    runDelays.push(delay);
    perBurst.get(scheduled)?.push(delay);
    lastStart = Math.max(lastStart, e.startTime.getTime());
    if (e.closeTime) endDelays.push(e.closeTime.getTime() - scheduled);
  }
  clearInterval(sampler);
  const load = Math.round((loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)) * 10) / 10;
  // The server's floor on this machine, right after: empty workflows, 32 at a time.
  const empty = await throughput(EMPTY_RUNS, 32, (i) =>
    infra.client.workflow.execute('emptyWorkflow', { taskQueue: TASK_QUEUE, workflowId: `empty-${i}-${Date.now()}` }),
  );

  const runs = distribution(runDelays);
  const ends = distribution(endDelays);
  const data = {
    schedules: SCHEDULES,
    fires: FIRES,
    creation: {
      perSecond: created.perSecond,
      seconds: created.seconds,
      latencyMs: created.latencyMs,
      inFlight: CREATE_IN_FLIGHT,
    },
    createdBeforeFirstFire: createdBy < firstFire,
    expectedRuns: expected,
    listedRuns: listed,
    runsWithStartTime: runDelays.length,
    lastRunSecondsAfterLastFire: Math.round((lastStart - lastFire) / 100) / 10,
    runStartDelayMs: runs,
    runEndDelayMs: ends,
    emptyWorkflowsPerSecond: empty.perSecond,
    loadAverage: load,
    cpus: availableParallelism(),
    perBurst: [...perBurst].map(([t, d]) => ({ scheduledAt: new Date(t).toISOString(), ...distribution(d) })),
  };
  const row = (what: string, d: Distribution) => `| ${what} | ${d.count} | ${d.p50} | ${d.p90} | ${d.p99} | ${d.max} |`;
  const markdown = [
    `#### Schedules (${SCHEDULES} schedule triggers, every minute, ${FIRES} bursts; one worker, file-backed dev server)`,
    '',
    `Created through the API at **${created.perSecond}/s** (${CREATE_IN_FLIGHT} in flight; p50 ${created.latencyMs.p50} ms, p99 ${created.latencyMs.p99} ms per call). ` +
      `${listed} of ${expected} runs started${listed < expected ? ` by ${DRAIN_S} s after the last burst` : ''}; the last one ${data.lastRunSecondsAfterLastFire} s after the last burst's time.`,
    '',
    '| start delay after the scheduled time (ms) | count | p50 | p90 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- |',
    row("the run's start (the schedule starts the run itself)", runs),
    row("the run's end (it reads its trigger, waits its turn in the tenant's start quota, runs one step)", ends),
    ...data.perBurst.map((b) => row(`… run's start, burst at ${b.scheduledAt.slice(11, 16)} UTC`, b)),
    '',
    `Empty workflows on the same dev server right after: **${empty.perSecond}/s** (${EMPTY_RUNS}, 32 in flight). ` +
      `Mean 1-minute load average over the bursts and the drain: ${load} on ${availableParallelism()} CPUs. ` +
      `The dev server starts schedules' workflows at up to ${SCHEDULER_RPS}/s (\`worker.schedulerNamespaceStartWorkflowRPS\`; Temporal's default is 30/s).`,
  ].join('\n');
  await writeResults('schedules', data, markdown);
} finally {
  await stack.stop();
}

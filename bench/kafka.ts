// `npm run bench:kafka`: runs started per second from a topic of BENCH_KAFKA_MESSAGES (10,000)
// messages by the trigger service (its own process, as deployed), against the rate at which the
// same Temporal server starts empty workflows in the same run, with the consumer lag sampled each
// second. Needs Java 17 and the broker jars (`node scripts/ensure.mjs`). Writes bench/results/kafka.*.
import { spawn } from 'node:child_process';
import { kafkaSkipReason, startKafka } from '../test/helpers/kafka.js';
import { throughput, writeResults } from './harness.js';
import { compiledEntry, envNumber, startStack, TASK_QUEUE } from './stack.js';

const MESSAGES = envNumber('BENCH_KAFKA_MESSAGES', 10_000);
const PARTITIONS = 4;
const EMPTY_STARTS = Math.min(MESSAGES, 3000);
const TOPIC = 'bench-events';
const TIMEOUT_S = envNumber('BENCH_KAFKA_TIMEOUT_S', 600);

const skip = kafkaSkipReason();
if (skip) {
  process.stderr.write(`bench kafka: ${skip}\n`);
  process.exit(1);
}

const stack = await startStack({ server: 'dev' });
const { infra, api } = stack;
const broker = await startKafka();
let stopService = () => false;
try {
  // The floor: how fast this Temporal server accepts starts of an empty workflow, 64 in flight.
  let n = 0;
  const empty = await throughput(EMPTY_STARTS, 64, () =>
    infra.client.workflow.start('emptyWorkflow', { taskQueue: TASK_QUEUE, workflowId: `empty-${n++}-${Date.now()}` }),
  );

  await broker.createTopic(TOPIC, PARTITIONS);
  const workflowId = await api.createWorkflow({
    name: 'bench: kafka event',
    steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger.value' } }],
  });
  await api.call('POST', `/v1/workflows/${workflowId}/triggers`, JSON.stringify({ type: 'kafka', topic: TOPIC }));
  // Produced after the trigger is saved (a trigger takes the messages from its start on), before
  // the service starts: it drains a backlog.
  await broker.produce(
    TOPIC,
    Array.from({ length: MESSAGES }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i }) })),
  );

  const main = await compiledEntry('src/main/triggers');
  const started = performance.now();
  const service = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: infra.address,
      DATABASE_URL: infra.databaseUrl,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      KAFKA_BROKERS: broker.brokers,
      KAFKA_GROUP_ID: 'bench',
      KAFKA_REFRESH_MS: '500',
      TRIGGERS_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      AUTH_MODE: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let serviceLog = '';
  const keep = (chunk: Buffer) => void (serviceLog = (serviceLog + chunk.toString()).slice(-20_000));
  service.stdout?.on('data', keep);
  service.stderr?.on('data', keep);
  stopService = () => service.kill('SIGTERM');
  const lag: { second: number; lag: number }[] = [];
  let firstCommit: number | undefined;
  let committed = 0;
  // Bounded: past BENCH_KAFKA_TIMEOUT_S the rate is taken over what was committed by then.
  const deadline = performance.now() + TIMEOUT_S * 1000;
  while (committed < MESSAGES && performance.now() < deadline) {
    // The group's coordinator may still be loading; the next sample asks again.
    const offsets = await broker.committed('bench', TOPIC).catch(() => undefined);
    if (offsets) committed = Object.values(offsets).reduce((a, b) => a + Math.max(0, b), 0);
    if (committed > 0 && firstCommit === undefined) firstCommit = performance.now();
    lag.push({ second: Math.round((performance.now() - started) / 100) / 10, lag: MESSAGES - committed });
    if (lag.length % 15 === 0) process.stdout.write(`${lag.at(-1)?.second}s: lag ${MESSAGES - committed}\n`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const done = performance.now();
  if (committed < MESSAGES)
    process.stderr.write(
      `bench kafka: ${committed} of ${MESSAGES} committed in ${TIMEOUT_S}s; the service's last lines:\n${serviceLog.slice(-4000)}\n`,
    );
  // From the first commit, so the service's start (module loading, the group join) is not counted as consumption.
  const consumeSeconds = (done - (firstCommit ?? started)) / 1000;
  const kafkaRate = Math.round((committed / consumeSeconds) * 10) / 10;
  const runs = (await infra.client.workflow.count(`MiniZapsWorkflowId = '${workflowId}'`)).count;
  const data = {
    messages: MESSAGES,
    committed,
    partitions: PARTITIONS,
    runsInTemporal: runs,
    emptyStartsPerSecond: empty.perSecond,
    kafkaRunsPerSecond: kafkaRate,
    ratio: Math.round((kafkaRate / empty.perSecond) * 100) / 100,
    totalSeconds: Math.round(((done - started) / 1000) * 10) / 10,
    lag,
  };
  const lagLine = lag
    .filter((_, i) => i % Math.max(1, Math.floor(lag.length / 12)) === 0)
    .map((l) => `${l.second}s: ${l.lag}`)
    .join(', ');
  const markdown = [
    '#### Kafka trigger throughput',
    '',
    '| what | runs/s |',
    '|---|---|',
    `| empty workflow starts (${EMPTY_STARTS}, 64 in flight), the floor | ${empty.perSecond} |`,
    `| runs started from a topic of ${MESSAGES} messages (${PARTITIONS} partitions, one trigger service; ${committed} committed) | ${kafkaRate} (${data.ratio}× the floor) |`,
    '',
    `Runs counted in Temporal visibility right after (it lags under load): ${runs}. Consumer lag (messages not yet committed) over time: ${lagLine}.`,
  ].join('\n');
  await writeResults('kafka', data, markdown);
} finally {
  stopService();
  await broker.stop();
  await stack.stop();
}

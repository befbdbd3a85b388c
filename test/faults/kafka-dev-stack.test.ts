// A SIGKILL of the whole `npm run dev` stack (API, worker, Kafka consumer, Temporal dev server and
// PostgreSQL, one process group) while a burst of Kafka messages is being worked on, then more
// messages while it is down and after it is back: every message produced after the trigger's 201
// starts exactly one run. A run is known at the receiver by the Idempotency-Key its http step sends
// (`<runId>:<stepId>`), so a step retried after the kill counts once and a second run would not.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import { kafkaSkipReason, startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { launch, signalGroup, type Launched } from '../newcomer/processes.js';
import { report } from './cluster.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TOPIC = 'orders';
const GROUP = 'mini-zaps-triggers'; // KAFKA_GROUP_ID's default
const BURST = 150;

describe(
  'faults: SIGKILL of the whole npm run dev stack during a Kafka burst (a real broker)',
  { skip: kafkaSkipReason() },
  () => {
    let broker: KafkaBroker | undefined;
    let receiver: Receiver | undefined;
    let producer: Producer | undefined;
    let dataDir: string | undefined;
    const launched: Launched[] = [];
    after(async () => {
      for (const l of launched) signalGroup(l, 'SIGKILL');
      await producer?.disconnect().catch(() => undefined);
      await receiver?.close();
      await broker?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    // Two starts of the whole stack and 300 runs: longer than the suite's default bound on a slow machine.
    it(
      'every message produced after the trigger’s 201 starts exactly one run: before, during and after the kill',
      { timeout: 1_800_000 },
      async () => {
        broker = await startKafka();
        await broker.createTopic(TOPIC, 3);
        receiver = await startReceiver();
        receiver.accept('/k');
        dataDir = await mkdtemp(join(tmpdir(), 'mini-zaps-dev-kill-'));
        await chmod(dataDir, 0o755); // PostgreSQL runs as its own user when this runs as root
        const env: Record<string, string> = {
          DATA_DIR: dataDir,
          API_PORT: String(await freePort()),
          TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
          TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
          EMBEDDED_POSTGRES_PORT: String(await freePort()),
          TEMPORAL_SDK_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
          KAFKA_BROKERS: broker.brokers,
          KAFKA_TOPIC_GRANTS: `default=${TOPIC}`,
          HTTP_ALLOWLIST: new URL(receiver.url).host,
          LOG_LEVEL: 'warn',
        };
        const api = `http://127.0.0.1:${env.API_PORT}`;

        const startDev = async (): Promise<{ dev: Launched; token: string }> => {
          const dev = launch('npm', ['run', 'dev'], ROOT, env);
          launched.push(dev);
          const banner = await dev.waitFor(/Then: curl/, 600_000);
          const token = /export TOKEN=(\S+)/.exec(banner)?.[1];
          assert.ok(token, `dev printed a token:\n${banner.slice(-2000)}`);
          return { dev, token };
        };
        const call = async (token: string, method: string, path: string, body?: unknown) => {
          const res = await fetch(`${api}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        };
        const produce = async (from: number, to: number) => {
          if (!producer) {
            producer = broker!.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
            await producer.connect();
          }
          const messages = Array.from({ length: to - from }, (_, i) => ({
            key: `m-${from + i}`,
            value: JSON.stringify({ n: from + i }),
          }));
          await producer.send({ topic: TOPIC, messages, acks: -1 });
        };
        /** For each message number, the distinct runs (Idempotency-Keys) whose step posted it, and the raw requests. */
        const runsPerMessage = () => {
          const runs = new Map<number, Set<string>>();
          const requests = receiver!.requestsTo('/k');
          for (const r of requests) {
            const n = (JSON.parse(r.body) as { value: { n: number } }).value.n;
            const keys = runs.get(n) ?? new Set<string>();
            keys.add(String(r.headers['idempotency-key']));
            runs.set(n, keys);
          }
          return { runs, requests: requests.length };
        };
        const committed = async () =>
          Object.values(await broker!.committed(GROUP, TOPIC))
            .filter((o) => o >= 0)
            .reduce((a, b) => a + b, 0);

        const first = await startDev();
        const wf = await call(first.token, 'POST', '/v1/workflows', {
          name: 'kafka through a crash',
          steps: [
            {
              id: 'post',
              type: 'http',
              config: { method: 'POST', url: `${receiver.url}/k`, body: '{{ trigger }}' },
              retry: { initialInterval: '200ms', maxAttempts: 50 },
            },
          ],
        });
        assert.equal(wf.status, 201, JSON.stringify(wf.body));
        const trigger = await call(first.token, 'POST', `/v1/workflows/${String(wf.body.id)}/triggers`, {
          type: 'kafka',
          topic: TOPIC,
        });
        assert.equal(trigger.status, 201, JSON.stringify(trigger.body));

        // The burst, and the kill as soon as its first run has posted: the rest is still in flight.
        await produce(0, BURST);
        await waitFor('a first run to post', async () => (runsPerMessage().runs.size > 0 ? true : undefined), 300_000);
        signalGroup(first.dev, 'SIGKILL');
        await first.dev.exited;
        const atKill = { posted: runsPerMessage().runs.size, committed: await committed() };
        assert.ok(
          atKill.posted < BURST,
          `the kill hit while runs were still to start (${atKill.posted} of ${BURST} posted)`,
        );
        assert.ok(
          atKill.committed < BURST,
          `the kill hit before every message was committed (${atKill.committed} of ${BURST} committed)`,
        );

        // Messages while everything is down, then the stack again on the same data, then more messages.
        await produce(BURST, BURST + 50);
        await startDev();
        await produce(BURST + 50, 2 * BURST);
        const total = 2 * BURST;
        await waitFor(
          `a run for each of the ${total} messages`,
          async () => (runsPerMessage().runs.size >= total ? true : undefined),
          600_000,
        );
        await waitFor(
          'every offset committed',
          async () => ((await committed()) === total ? true : undefined),
          120_000,
        );
        await new Promise((r) => setTimeout(r, 3000)); // a late second run would have posted by now

        const { runs, requests } = runsPerMessage();
        const wrong = [...runs].filter(([n, keys]) => n < 0 || n >= total || keys.size !== 1);
        const missing = Array.from({ length: total }, (_, n) => n).filter((n) => !runs.has(n));
        assert.deepEqual(
          { wrong: wrong.slice(0, 10).map(([n, keys]) => [n, [...keys]]), missing: missing.slice(0, 10) },
          { wrong: [], missing: [] },
          'each message started exactly one run',
        );
        report('npm run dev killed during a Kafka burst', { produced: total, ...atKill, requests, runs: runs.size });
      },
    );
  },
);

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { mintToken } from '../../src/shared/tokens.js';
import type { Producer } from 'kafkajs';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { startTriggerService, type TriggerService } from '../helpers/trigger-service.js';
import { api, useCluster } from './cluster.js';

const SECRET = 'kafka-fault-tests-secret-long-enough';
export const GROUP = 'faults-kafka';

/**
 * A suite's cluster (worker and API as processes) beside a real Kafka broker, whose API reads each
 * trigger's start from the broker and signs tenants in with tokens; replicas of the trigger service
 * are started as processes in one group, and every message posts itself to the receiver.
 */
export function useKafkaCluster() {
  let broker: KafkaBroker | undefined;
  before(async () => {
    broker = await startKafka();
  });
  const suite = useCluster(() => ({
    KAFKA_BROKERS: kafka().brokers,
    // The tests' topics are granted to their tenants by configuration, on every process (the API
    // checks a trigger's topic when it is saved, the trigger service each time it reads triggers).
    KAFKA_TOPIC_GRANTS: 'acme=orders,globex=orders,acme=signups',
    AUTH_MODE: 'hs256',
    AUTH_HS256_SECRET: SECRET,
  }));
  const replicas: TriggerService[] = [];
  // Idempotent: a send retried on a slow machine must not write a message twice, or it would be two.
  let producer: Producer | undefined;
  after(async () => {
    for (const r of replicas) await r.kill();
    await producer?.disconnect().catch(() => undefined);
    await broker?.stop();
  });
  const kafka = (): KafkaBroker => {
    if (!broker) throw new Error('the broker has not started');
    return broker;
  };

  const auth = new Map<string, Record<string, string>>();
  const as = async (tenant: string, method: string, path: string, body?: unknown) => {
    if (!auth.has(tenant))
      auth.set(tenant, { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` });
    return api(suite.cluster, method, path, body, auth.get(tenant));
  };

  /** How many requests reached `path` for each message number (the request body is the message as its run got it). */
  const perMessage = (path: string): Map<number, number> => {
    const counts = new Map<number, number>();
    for (const r of suite.receiver.requestsTo(path)) {
      const n = (JSON.parse(r.body) as { value: { n: number } }).value.n;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    return counts;
  };

  /** The group's committed offsets on a topic, summed over its partitions (0 when none). */
  const committedTotal = async (topic: string): Promise<number> =>
    Object.values(await kafka().committed(GROUP, topic))
      .filter((o) => o >= 0)
      .reduce((a, b) => a + b, 0);

  return {
    get cluster() {
      return suite.cluster;
    },
    get broker() {
      return kafka();
    },
    perMessage,

    /** A replica of the trigger service: its own process in the group, committing every `slice` messages of a partition. */
    async startReplica(slice = 50): Promise<TriggerService> {
      const replica = await startTriggerService({
        ...suite.cluster.env(),
        KAFKA_GROUP_ID: GROUP,
        KAFKA_BATCH_SIZE: String(slice),
      });
      replicas.push(replica);
      return replica;
    },

    as,

    /** A tenant's workflow whose one step posts the message it was started for to `/k/<label>`, and its Kafka trigger; the receiver path and the trigger's id. */
    async addTrigger(tenant: string, topic: string, label: string): Promise<{ path: string; id: string }> {
      const path = `/k/${label}`;
      suite.receiver.accept(path);
      const wf = await as(tenant, 'POST', '/v1/workflows', {
        name: `kafka ${label}`,
        steps: [
          {
            id: 'post',
            type: 'http',
            config: { method: 'POST', url: `${suite.receiver.url}${path}`, body: '{{ trigger }}' },
            retry: { initialInterval: '200ms', maxAttempts: 20 },
          },
        ],
      });
      assert.equal(wf.status, 201, JSON.stringify(wf.body));
      const trigger = await as(tenant, 'POST', `/v1/workflows/${wf.body.id}/triggers`, { type: 'kafka', topic });
      assert.equal(trigger.status, 201, JSON.stringify(trigger.body));
      return { path, id: trigger.body.id as string };
    },

    /** Produces the messages numbered from..to-1 (`{"n": …}`, keyed so they spread over the partitions), each once. */
    async produce(topic: string, from: number, to: number): Promise<void> {
      if (!producer) {
        producer = kafka().kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
      }
      const messages = Array.from({ length: to - from }, (_, i) => ({
        key: `m-${from + i}`,
        value: JSON.stringify({ n: from + i }),
      }));
      for (let i = 0; i < messages.length; i += 500)
        await producer.send({ topic, messages: messages.slice(i, i + 500), acks: -1 });
    },

    /** Waits until the group has committed every message of the topic, which must hold `produced` messages. */
    async allCommitted(topic: string, produced: number): Promise<void> {
      const end = async () => (await kafka().admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
      assert.equal(await end(), produced, 'each message was written once');
      await waitFor(
        'every offset committed',
        async () => ((await committedTotal(topic)) === produced ? true : undefined),
        60_000,
      ).catch(async (err: unknown) => {
        throw new Error(`${String(err)}; committed ${JSON.stringify(await kafka().committed(GROUP, topic))}`);
      });
    },

    /** Asserts each message numbered in `ranges` ([from, to) each) reached `path` exactly once, and no other did; the requests to it. */
    assertOncePerMessage(path: string, ...ranges: [number, number][]): number {
      const counts = perMessage(path);
      const expected = ranges.flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i));
      const wanted = new Set(expected);
      const wrong = [...counts].filter(([n, count]) => !wanted.has(n) || count !== 1);
      const missing = expected.filter((n) => !counts.has(n));
      assert.deepEqual(
        { wrong: wrong.slice(0, 10), missing: missing.slice(0, 10), missingCount: missing.length },
        { wrong: [], missing: [], missingCount: 0 },
        `${path}: every message of ${JSON.stringify(ranges)} once, no other`,
      );
      return suite.receiver.requestsTo(path).length;
    },

    committedTotal,

    async groupState(): Promise<string> {
      return (await kafka().admin.describeGroups([GROUP])).groups[0]?.state ?? 'unknown';
    },

    requestsTo: (paths: string[]) => paths.reduce((n, p) => n + suite.receiver.requestsTo(p).length, 0),
  };
}

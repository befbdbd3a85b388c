import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../src/shared/tokens.js';
import { kafkaSkipReason, startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { startTriggerService, type TriggerService } from '../helpers/trigger-service.js';
import { api, report, useCluster } from './cluster.js';

const skip = kafkaSkipReason();
const SECRET = 'kafka-replicas-fault-test-secret-long-enough';
const GROUP = 'faults-kafka-replicas';
// The issue asks for 3,000; on a 2-core machine shared with other work that is too long for one
// test, so the default is smaller. KAFKA_FAULT_MESSAGES=3000 runs the full size.
const MESSAGES = Number(process.env.KAFKA_FAULT_MESSAGES ?? 900);
const REBALANCING = new Set(['PreparingRebalance', 'CompletingRebalance']);

describe(
  'faults: Kafka triggers through crashes, rebalances and downtime (a real broker, replicas as processes)',
  { skip },
  () => {
    let broker: KafkaBroker;
    before(async () => {
      broker = await startKafka();
    });
    // The API asks the broker for each trigger's start; two tenants sign in with tokens.
    const suite = useCluster(() => ({ KAFKA_BROKERS: broker.brokers, AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET }));
    const replicas: TriggerService[] = [];
    after(async () => {
      for (const r of replicas) await r.kill();
      await broker?.stop();
    });

    const auth: Record<string, Record<string, string>> = {};
    const as = async (tenant: string, method: string, path: string, body?: unknown) => {
      auth[tenant] ??= { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
      return api(suite.cluster, method, path, body, auth[tenant]);
    };

    /** A replica of the trigger service: its own process in the one group, committing every `slice` messages of a partition. */
    const startReplica = async (slice = 50) => {
      const replica = await startTriggerService({
        ...suite.cluster.env(),
        KAFKA_GROUP_ID: GROUP,
        KAFKA_BATCH_SIZE: String(slice),
      });
      replicas.push(replica);
      return replica;
    };

    /** A workflow whose one step posts the message it was started for to the receiver at `/k/<label>`. */
    const addTrigger = async (tenant: string, topic: string, label: string): Promise<string> => {
      suite.receiver.accept(`/k/${label}`);
      const wf = await as(tenant, 'POST', '/v1/workflows', {
        name: `kafka ${label}`,
        steps: [
          {
            id: 'post',
            type: 'http',
            config: { method: 'POST', url: `${suite.receiver.url}/k/${label}`, body: '{{ trigger }}' },
            retry: { initialInterval: '200ms', maxAttempts: 20 },
          },
        ],
      });
      assert.equal(wf.status, 201, JSON.stringify(wf.body));
      const trigger = await as(tenant, 'POST', `/v1/workflows/${wf.body.id}/triggers`, { type: 'kafka', topic });
      assert.equal(trigger.status, 201, JSON.stringify(trigger.body));
      return `/k/${label}`;
    };

    const produce = (topic: string, from: number, to: number) =>
      broker.produce(
        topic,
        Array.from({ length: to - from }, (_, i) => ({ key: `m-${from + i}`, value: JSON.stringify({ n: from + i }) })),
      );

    /** How many requests reached `path` for each message number (the request body is the message as the run got it). */
    const perMessage = (path: string): Map<number, number> => {
      const counts = new Map<number, number>();
      for (const r of suite.receiver.requestsTo(path)) {
        const n = (JSON.parse(r.body) as { value: { n: number } }).value.n;
        counts.set(n, (counts.get(n) ?? 0) + 1);
      }
      return counts;
    };

    /** Each message numbered from..to-1 reached `path` exactly once, and no other did. */
    const assertOncePerMessage = (path: string, from: number, to: number) => {
      const counts = perMessage(path);
      const wrong = [...counts].filter(([n, count]) => n < from || n >= to || count !== 1);
      const missing = Array.from({ length: to - from }, (_, i) => from + i).filter((n) => !counts.has(n));
      assert.deepEqual(
        { wrong: wrong.slice(0, 10), missing: missing.slice(0, 10), missingCount: missing.length },
        { wrong: [], missing: [], missingCount: 0 },
        `${path}: every message ${from}..${to - 1} once, no other`,
      );
      return suite.receiver.requestsTo(path).length;
    };

    const committedTotal = async (topic: string) =>
      Object.values(await broker.committed(GROUP, topic))
        .filter((o) => o >= 0)
        .reduce((a, b) => a + b, 0);
    const groupState = async () => (await broker.admin.describeGroups([GROUP])).groups[0]?.state ?? 'unknown';
    const started = Date.now();
    const step = (what: string) =>
      process.stdout.write(`# kafka replicas ${Math.round((Date.now() - started) / 1000)} s: ${what}\n`);
    const requestsTo = (paths: string[]) => paths.reduce((n, p) => n + suite.receiver.requestsTo(p).length, 0);

    it('messages produced after a trigger is saved but before the consumer group first joins all start their run; earlier ones start none', async () => {
      await broker.createTopic('signups', 3);
      await produce('signups', 0, 10); // before the trigger: not its messages
      const path = await addTrigger('acme', 'signups', 'early');
      await produce('signups', 10, 70);
      const replica = await startReplica();
      await waitFor(
        '60 runs to post their message',
        async () => (perMessage(path).size >= 60 ? true : undefined),
        120_000,
      );
      await waitFor(
        'every offset committed',
        async () => ((await committedTotal('signups')) === 70 ? true : undefined),
        60_000,
      );
      const requests = assertOncePerMessage(path, 10, 70);
      report('kafka trigger before the first join', { produced: 70, beforeTrigger: 10, requests });
      await replica.kill('SIGTERM');
    });

    it('three triggers in two tenants, two replicas: SIGKILLs before the first commit, during a rebalance and at a random point, and messages produced while every replica is down; each message after a trigger was saved starts its run once', async () => {
      const topic = 'orders';
      await broker.createTopic(topic, 3);
      await produce(topic, 0, 20); // before every trigger
      const [a, b] = [await addTrigger('acme', topic, 'a'), await addTrigger('acme', topic, 'b')];
      const cut = (share: number) => Math.round(20 + (MESSAGES - 20) * share);
      await produce(topic, 20, cut(0.3));
      const kills: Record<string, string | number>[] = [];

      step('triggers saved, first messages produced');
      // 1. Before the first commit: the first replica, whose first slice is every message so far, is
      // killed once its first runs post, long before that slice's hundreds of starts are done.
      const first = await startReplica(500);
      await waitFor('the first runs to post', async () => (requestsTo([a, b]) >= 5 ? true : undefined), 120_000);
      await first.kill();
      const committedAtFirstKill = await committedTotal(topic);
      assert.equal(committedAtFirstKill, 0, 'the first kill came before the first commit');
      kills.push({ at: 'before the first commit', requests: requestsTo([a, b]), committed: committedAtFirstKill });

      step(`first kill: ${JSON.stringify(kills[0])}`);
      // 2. Every replica down: these messages wait in the topic.
      await produce(topic, cut(0.3), cut(0.5));

      step('produced while every replica is down');
      // 3. During a rebalance: a second replica joins the first, which is killed while the group rebalances.
      const one = await startReplica();
      const joining = startReplica();
      const state = await waitFor(
        'the group to rebalance',
        async () => {
          const s = await groupState();
          return REBALANCING.has(s) ? s : undefined;
        },
        120_000,
      );
      await one.kill();
      kills.push({ at: `during a rebalance (${state})`, committed: await committedTotal(topic), produced: cut(0.5) });
      const two = await joining;

      step(`second kill: ${JSON.stringify(kills[1])}`);
      // 4. A trigger of another tenant saved while the group consumes: it takes the messages from here on.
      const cStart = cut(0.5);
      const c = await addTrigger('globex', topic, 'c');
      await produce(topic, cStart, cut(0.8));
      const three = await startReplica(); // another rebalance

      step('third trigger saved, a third replica joined');
      // 5. At a random point while runs start: one of the two replicas.
      const delayMs = 500 + Math.floor(Math.random() * 2500);
      await new Promise((r) => setTimeout(r, delayMs));
      const victim = Math.random() < 0.5 ? two : three;
      await victim.kill();
      const committedAtRandom = await committedTotal(topic);
      kills.push({ at: `random (${delayMs} ms)`, committed: committedAtRandom, produced: cut(0.8) });
      assert.ok(committedAtRandom < cut(0.8), 'the random kill came while messages were uncommitted');
      await produce(topic, cut(0.8), MESSAGES);
      const last = await startReplica();

      step(`third kill: ${JSON.stringify(kills[2])}`);
      const expected = (MESSAGES - 20) * 2 + (MESSAGES - cStart);
      await waitFor(
        `${expected} runs to post their message`,
        async () => (perMessage(a).size + perMessage(b).size + perMessage(c).size >= expected ? true : undefined),
        300_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; posted ${requestsTo([a, b, c])}; ${last.output().slice(-2000)}`);
      });
      step('every run posted');
      await waitFor(
        'every offset committed',
        async () => ((await committedTotal(topic)) === MESSAGES ? true : undefined),
        60_000,
      );
      await new Promise((r) => setTimeout(r, 3000)); // a late second run would have posted by now

      const counts = {
        a: assertOncePerMessage(a, 20, MESSAGES),
        b: assertOncePerMessage(b, 20, MESSAGES),
        c: assertOncePerMessage(c, cStart, MESSAGES),
      };
      for (const [i, kill] of kills.entries()) report(`kafka replicas kill ${i + 1}`, kill);
      report('kafka replicas', { messages: MESSAGES, partitions: 3, triggers: 3, tenants: 2, expected, ...counts });
    });
  },
);

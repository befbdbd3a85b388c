import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kafkaSkipReason } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { report } from './cluster.js';
import { useKafkaCluster } from './kafka-suite.js';

// 3,000 messages for three triggers: 9,000 runs. KAFKA_FAULT_MESSAGES makes a quicker check.
const MESSAGES = Number(process.env.KAFKA_FAULT_MESSAGES ?? 3000);
const BEFORE = 20; // produced before any trigger: no trigger's messages
const REBALANCING = new Set(['PreparingRebalance', 'CompletingRebalance']);
const TOPIC = 'orders';

describe(
  'faults: Kafka triggers through crashes, rebalances and downtime (a real broker, replicas as processes)',
  { skip: kafkaSkipReason(), timeout: 40 * 60_000 },
  () => {
    const k = useKafkaCluster();
    const started = Date.now();
    const step = (what: string) =>
      process.stdout.write(`# kafka replicas ${Math.round((Date.now() - started) / 1000)} s: ${what}\n`);
    const cut = (share: number) => Math.round(BEFORE + (MESSAGES - BEFORE) * share);

    it(
      'three triggers in two tenants, two replicas: SIGKILLs before the first commit, during a rebalance and at a random point, and messages produced while every replica is down; each message after a trigger was saved starts its run once',
      { timeout: 40 * 60_000 },
      async () => {
        await k.broker.createTopic(TOPIC, 3);
        await k.produce(TOPIC, 0, BEFORE);
        const [a, b] = [(await k.addTrigger('acme', TOPIC, 'a')).path, (await k.addTrigger('acme', TOPIC, 'b')).path];
        await k.produce(TOPIC, BEFORE, cut(0.3));
        const kills: Record<string, string | number>[] = [];
        step('triggers saved, first messages produced');

        // 1. Early, while the first slices are in flight: the first replica, whose first slice per
        // partition is every message so far, is killed as soon as its first run posts. Its slices
        // commit only once all their starts are done, so the kill lands before the first commit or,
        // when one partition's slice was quicker, with most messages still uncommitted: either way
        // runs it started are not committed and are redone by the next replica.
        const first = await k.startReplica(500);
        await waitFor('the first run to post', async () => (k.requestsTo([a, b]) >= 1 ? true : undefined), 120_000);
        await first.kill();
        const committedAtKill = await k.committedTotal(TOPIC);
        kills.push({
          at: committedAtKill === 0 ? 'before the first commit' : 'while the first slices were in flight',
          posted: k.requestsTo([a, b]),
          committed: committedAtKill,
        });
        assert.ok(committedAtKill < cut(0.3), 'the first kill came while messages it had read were uncommitted');
        step(`first kill: ${JSON.stringify(kills[0])}`);

        // 2. Every replica down: these messages wait in the topic.
        await k.produce(TOPIC, cut(0.3), cut(0.5));

        // 3. During a rebalance: a second replica joins the first, which is killed while the group rebalances.
        const one = await k.startReplica();
        const joining = k.startReplica();
        const state = await waitFor(
          'the group to rebalance',
          async () => {
            const s = await k.groupState();
            return REBALANCING.has(s) ? s : undefined;
          },
          120_000,
        );
        await one.kill();
        kills.push({
          at: `during a rebalance (${state})`,
          committed: await k.committedTotal(TOPIC),
          produced: cut(0.5),
        });
        const two = await joining;
        step(`second kill: ${JSON.stringify(kills[1])}`);

        // 4. A trigger of another tenant, saved while the group consumes: it takes the messages from here on.
        const cStart = cut(0.5);
        const { path: c } = await k.addTrigger('globex', TOPIC, 'c');
        const last = cut(0.9);
        await k.produce(TOPIC, cStart, last);
        const three = await k.startReplica(); // another rebalance

        // 5. At a random point while runs start: one of the two replicas; the other goes on alone. The
        // last messages are produced just before, so however fast the replicas were, the kill finds
        // work not yet committed.
        const delayMs = 500 + Math.floor(Math.random() * 2500);
        await new Promise((r) => setTimeout(r, delayMs));
        await k.produce(TOPIC, last, MESSAGES);
        const [victim, survivor] = Math.random() < 0.5 ? [two, three] : [three, two];
        await victim.kill();
        kills.push({ at: `at random (${delayMs} ms)`, committed: await k.committedTotal(TOPIC), produced: MESSAGES });
        assert.ok(Number(kills[2]?.committed) < MESSAGES, 'the random kill came while messages were uncommitted');
        step(`third kill: ${JSON.stringify(kills[2])}`);

        const expected = (MESSAGES - BEFORE) * 2 + (MESSAGES - cStart);
        const posted = () => k.perMessage(a).size + k.perMessage(b).size + k.perMessage(c).size;
        await waitFor(
          `${expected} runs to post their message`,
          async () => (posted() >= expected ? true : undefined),
          Math.max(240_000, expected * 100), // 100 ms a run: generous on a slow machine
        ).catch((err: unknown) => {
          throw new Error(`${String(err)}; ${posted()} posted; ${survivor.output().slice(-2000)}`);
        });
        step('every run posted');
        await k.allCommitted(TOPIC, MESSAGES);
        await new Promise((r) => setTimeout(r, 3000)); // a late second run would have posted by now

        const counts = {
          a: k.assertOncePerMessage(a, [BEFORE, MESSAGES]),
          b: k.assertOncePerMessage(b, [BEFORE, MESSAGES]),
          c: k.assertOncePerMessage(c, [cStart, MESSAGES]),
        };
        for (const [i, kill] of kills.entries()) report(`kafka replicas kill ${i + 1}`, kill);
        report('kafka replicas', { messages: MESSAGES, partitions: 3, triggers: 3, tenants: 2, expected, ...counts });
      },
    );
  },
);

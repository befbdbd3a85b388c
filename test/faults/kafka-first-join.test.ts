import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kafkaSkipReason } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { report } from './cluster.js';
import { useKafkaCluster } from './kafka-suite.js';

describe(
  'faults: a Kafka trigger saved before its consumer group ever joined (a real broker)',
  { skip: kafkaSkipReason() },
  () => {
    const k = useKafkaCluster();
    let trigger: { path: string; id: string } | undefined;

    it('messages produced after a trigger is saved but before the consumer group first joins all start their run; earlier ones start none', async () => {
      await k.broker.createTopic('signups', 3);
      await k.produce('signups', 0, 10); // before the trigger: not its messages
      const { path, id } = await k.addTrigger('acme', 'signups', 'early');
      trigger = { path, id };
      await k.produce('signups', 10, 70);
      const replica = await k.startReplica();
      await waitFor(
        '60 runs to post their message',
        async () => (k.perMessage(path).size >= 60 ? true : undefined),
        120_000,
      );
      await k.allCommitted('signups', 70);
      await new Promise((r) => setTimeout(r, 2000)); // a late second run would have posted by now
      const requests = k.assertOncePerMessage(path, [10, 70]);
      report('kafka trigger before the first join', { produced: 70, beforeTrigger: 10, requests });
      await replica.kill('SIGTERM');
    });

    it("a resumed trigger starts anew at its topic's end: what arrived while it was paused starts nothing, what comes after does", async () => {
      assert.ok(trigger, 'the first test saved the trigger');
      const { path, id } = trigger;
      assert.equal((await k.as('acme', 'POST', `/v1/triggers/${id}/pause`)).status, 200);
      await k.produce('signups', 70, 80); // while paused, with no replica running
      assert.equal((await k.as('acme', 'POST', `/v1/triggers/${id}/resume`)).status, 200);
      await k.produce('signups', 80, 100);
      const replica = await k.startReplica(); // the group's commit is at 70: it moves up to the new start
      await waitFor(
        '80 runs to post their message',
        async () => (k.perMessage(path).size >= 80 ? true : undefined),
        120_000,
      );
      await k.allCommitted('signups', 100);
      await new Promise((r) => setTimeout(r, 2000)); // a run for a message of the pause would have posted by now
      const requests = k.assertOncePerMessage(path, [10, 70], [80, 100]);
      report('kafka trigger resumed', { produced: 100, whilePaused: 10, requests });
      await replica.kill('SIGTERM');
    });
  },
);

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

    it('messages produced after a trigger is saved but before the consumer group first joins all start their run; earlier ones start none', async () => {
      await k.broker.createTopic('signups', 3);
      await k.produce('signups', 0, 10); // before the trigger: not its messages
      const path = await k.addTrigger('acme', 'signups', 'early');
      await k.produce('signups', 10, 70);
      const replica = await k.startReplica();
      await waitFor(
        '60 runs to post their message',
        async () => (k.perMessage(path).size >= 60 ? true : undefined),
        120_000,
      );
      await k.allCommitted('signups', 70);
      await new Promise((r) => setTimeout(r, 2000)); // a late second run would have posted by now
      const requests = k.assertOncePerMessage(path, 10, 70);
      report('kafka trigger before the first join', { produced: 70, beforeTrigger: 10, requests });
      await replica.kill('SIGTERM');
    });
  },
);

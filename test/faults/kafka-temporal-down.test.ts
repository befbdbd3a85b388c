import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kafkaSkipReason, startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { startTriggerService, type TriggerService } from '../helpers/trigger-service.js';
import { api, report, useCluster } from './cluster.js';

const skip = kafkaSkipReason();

describe('Kafka triggers while the Temporal server is down', { skip }, () => {
  const ctx = useCluster();
  let broker: KafkaBroker;
  let service: TriggerService;

  before(async () => {
    broker = await startKafka();
    service = await startTriggerService({
      ...ctx.cluster.env(),
      KAFKA_BROKERS: broker.brokers,
      KAFKA_GROUP_ID: 'faults-triggers',
    });
  });
  after(async () => {
    await service?.kill();
    await broker?.stop();
  });

  test('while the Temporal server is stopped no message is lost: the service pauses, commits nothing, and starts every run once Temporal is back', async () => {
    const { cluster } = ctx;
    await broker.createTopic('default.payments');
    const created = await api(cluster, 'POST', '/v1/workflows', {
      name: 'Payment received',
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const wf: string = created.body.id;
    const trigger = await api(cluster, 'POST', `/v1/workflows/${wf}/triggers`, {
      type: 'kafka',
      topic: 'default.payments',
    });
    assert.equal(trigger.status, 201, JSON.stringify(trigger.body));
    await service.consuming('default.payments');
    const inTemporal = async () => (await cluster.client.workflow.count(`MiniZapsWorkflowId = '${wf}'`)).count;
    const committed = async () => (await broker.committed('faults-triggers', 'default.payments'))[0] ?? 0;
    const produce = (from: number, n: number) =>
      broker.produce(
        'default.payments',
        Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ payment: from + i }) })),
      );

    await produce(0, 20);
    await waitFor('20 runs', async () => ((await inTemporal()) === 20 ? true : undefined), 60_000);
    await waitFor('20 offsets committed', async () => ((await committed()) === 20 ? true : undefined), 30_000);

    await cluster.killTemporal();
    await produce(20, 100);
    await waitFor(
      'the service to pause its partition',
      async () => (service.output().includes('partition paused') ? true : undefined),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(service.alive(), 'the trigger service did not crash');
    assert.equal(await committed(), 20, 'nothing is committed while the runs cannot start');

    await cluster.startTemporal();
    await waitFor(
      'every offset committed after Temporal is back',
      async () => ((await committed()) === 120 ? true : undefined),
      180_000,
    );
    await waitFor('120 runs in Temporal', async () => ((await inTemporal()) >= 120 ? true : undefined), 60_000);
    assert.equal(await inTemporal(), 120, 'one run per message, none twice');
    assert.ok(service.output().includes('partition resumed'));
    assert.ok(service.alive(), 'the same trigger service process went on');
    report('kafka-temporal-down', { messages: 120, runs: await inTemporal(), committed: await committed() });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kafkaSkipReason, startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, waitForEnd } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startTriggerService, type TriggerService } from '../helpers/trigger-service.js';

const skip = kafkaSkipReason();

const echo = (name: string) => ({
  name,
  steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger.value' } }],
});

describe('Kafka triggers (a real Kafka 4.1 broker, the trigger service as its own process)', { skip }, () => {
  let stack: Stack;
  let broker: KafkaBroker;
  let service: TriggerService;
  const serviceEnv = () => ({ ...stack.workerEnv, KAFKA_BROKERS: broker.brokers, KAFKA_GROUP_ID: 'triggers-test' });

  before(async () => {
    broker = await startKafka();
    stack = await startStack();
    service = await startTriggerService(serviceEnv());
  });
  after(async () => {
    await service?.kill();
    await stack?.stop();
    await broker?.stop();
  });

  const addTrigger = async (workflowId: string, body: Record<string, unknown>) => {
    const res = await stack.call('POST', `/v1/workflows/${workflowId}/triggers`, { type: 'kafka', ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const runsOf = async (workflowId: string) =>
    (await stack.call('GET', `/v1/runs?workflowId=${workflowId}&limit=100`)).body.items as {
      id: string;
      source: Record<string, unknown>;
    }[];

  test('a Kafka trigger is validated at save time: a filter that does not parse, a bad topic or schedule fields are 400s', async () => {
    const wf = await createWorkflow(stack, echo('validated'));
    const res = await stack.call('POST', `/v1/workflows/${wf}/triggers`, {
      type: 'kafka',
      topic: 'default.users',
      filter: 'value.plan = ',
    });
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(res.body), /filter does not parse/);
    const badTopic = await stack.call('POST', `/v1/workflows/${wf}/triggers`, { type: 'kafka', topic: 'no spaces' });
    assert.equal(badTopic.status, 400);
    const patched = await stack.call('PATCH', `/v1/triggers/${await addTrigger(wf, { topic: 'default.users' })}`, {
      every: '10s',
    });
    assert.equal(patched.status, 400, 'schedule fields do not fit a Kafka trigger');
    assert.equal(patched.body.code, 'INVALID_TRIGGER');
    const doc = await stack.call('GET', '/openapi.json');
    assert.ok(doc.body.components.schemas.KafkaTriggerBody, 'the OpenAPI document describes Kafka triggers');
  });

  test('one message fans out to three workflows, and a filter excludes the messages it does not match', async () => {
    await broker.createTopic('default.user_created');
    const [onboarding, crm, analytics] = [
      await createWorkflow(stack, echo('Onboarding')),
      await createWorkflow(stack, echo('Add to CRM')),
      await createWorkflow(stack, echo('Provision analytics')),
    ];
    const triggers = [
      await addTrigger(onboarding, { topic: 'default.user_created' }),
      await addTrigger(crm, { topic: 'default.user_created' }),
      await addTrigger(analytics, { topic: 'default.user_created', filter: "value.plan = 'pro'" }),
    ];
    const shown = await stack.call('GET', `/v1/triggers/${triggers[2]}`);
    assert.deepEqual(
      [shown.body.type, shown.body.topic, shown.body.deadLetterTopic],
      ['kafka', 'default.user_created', 'default.user_created.dlq'],
    );
    await service.consuming('default.user_created');

    await broker.produce('default.user_created', [
      { key: 'ada', value: JSON.stringify({ email: 'ada@example.com', plan: 'pro' }) },
      { key: 'bob', value: JSON.stringify({ email: 'bob@example.com', plan: 'free' }) },
    ]);

    for (const wf of [onboarding, crm])
      await waitFor(`two runs of ${wf}`, async () => ((await runsOf(wf)).length === 2 ? true : undefined), 60_000);
    await waitFor('the filtered run', async () => ((await runsOf(analytics)).length === 1 ? true : undefined), 60_000);
    const [proRun] = await runsOf(analytics);
    assert.ok(proRun);
    const ended = await waitForEnd(stack, proRun.id);
    assert.equal(ended.status, 'completed');
    assert.deepEqual(ended.result, { email: 'ada@example.com', plan: 'pro' });
    assert.deepEqual(ended.source, {
      type: 'kafka',
      triggerId: triggers[2],
      topic: 'default.user_created',
      partition: 0,
      offset: '0',
    });
    // The filter left bob out for good: the offsets are committed past him and no third run came.
    await waitFor(
      'the offsets to be committed',
      async () => ((await broker.committed('triggers-test', 'default.user_created'))[0] === 2 ? true : undefined),
      30_000,
    );
    assert.equal((await runsOf(analytics)).length, 1);
  });

  test('a poison message reaches the dead-letter topic with its reason, and a failing filter with its trigger', async () => {
    await broker.createTopic('default.orders');
    const wf = await createWorkflow(stack, echo('Orders'));
    const triggerId = await addTrigger(wf, { topic: 'default.orders', filter: 'value.amount + 1 > 1' });
    await service.consuming('default.orders');

    await broker.produce('default.orders', [
      { value: 'not json {' },
      { value: JSON.stringify({ amount: 'lots' }) },
      { value: JSON.stringify({ amount: 5 }) },
    ]);

    const dead = await broker.readAll('default.orders.dlq', 2, 60_000);
    const undecodable = dead.find((d) => d.headers['x-minizaps-dlq-reason'] === 'undecodable');
    assert.equal(undecodable?.value, 'not json {');
    assert.equal(undecodable?.headers['x-minizaps-source-offset'], '0');
    const filterFailed = dead.find((d) => d.headers['x-minizaps-dlq-reason'] === 'filter_failed');
    assert.equal(filterFailed?.headers['x-minizaps-trigger-id'], triggerId);
    assert.match(filterFailed?.headers['x-minizaps-dlq-error'] ?? '', /.+/);
    await waitFor(
      'the one good order to start its run',
      async () => ((await runsOf(wf)).length === 1 ? true : undefined),
      60_000,
    );
    assert.ok(service.alive(), 'the trigger service survived the poison message');
  });

  test("a trigger stored on a topic that is not its tenant's is not consumed until the topic is granted", async () => {
    await broker.createTopic('legacy_events');
    const wf = await createWorkflow(stack, echo('Legacy'));
    // As stored before the topic rules: the API would refuse it now.
    const legacy = await stack.deps.triggers.createKafka('default', wf, { topic: 'legacy_events' }, null);
    await waitFor(
      'the trigger service to leave the trigger out',
      async () =>
        service
          .output()
          .split('\n')
          .some((line) => line.includes("not its tenant's") && line.includes(legacy.id))
          ? true
          : undefined,
      60_000,
    );
    const consuming = service
      .output()
      .split('\n')
      .filter((line) => line.includes('kafka triggers consuming'));
    assert.ok(!consuming.at(-1)?.includes('legacy_events'), consuming.at(-1));

    const granted = await stack.call('PUT', '/v1/admin/tenants/default/topics', { topics: ['legacy_events'] });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    await service.consuming('legacy_events');
    await broker.produce('legacy_events', [{ value: JSON.stringify({ n: 1 }) }]);
    await waitFor(
      'the granted trigger to start a run',
      async () => ((await runsOf(wf)).length === 1 ? true : undefined),
      60_000,
    );
  });

  test('SIGKILL of the trigger service in the middle of 2,000 messages, then a restart, leaves exactly one run per trigger and message, counted in Temporal', async () => {
    const messages = 2000;
    await broker.createTopic('default.signups', 2);
    // Runs that wait an hour: each costs one workflow task, so the count is about starts, not the worker.
    const waiting = (name: string) => ({ name, steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }] });
    const workflows = [await createWorkflow(stack, waiting('Welcome')), await createWorkflow(stack, waiting('Audit'))];
    for (const wf of workflows) await addTrigger(wf, { topic: 'default.signups' });
    await service.consuming('default.signups');
    const inTemporal = async (wf: string) => (await stack.client.workflow.count(`MiniZapsWorkflowId = '${wf}'`)).count;
    const total = async () => (await Promise.all(workflows.map(inTemporal))).reduce((a, b) => a + b, 0);

    await broker.produce(
      'default.signups',
      Array.from({ length: messages }, (_, i) => ({ key: `user-${i}`, value: JSON.stringify({ user: i }) })),
    );
    await waitFor('some runs to start', async () => ((await total()) >= 300 ? true : undefined), 120_000);
    await service.kill('SIGKILL');
    const atKill = await total();
    assert.ok(
      atKill < messages * workflows.length,
      `the service was killed in the middle (${atKill} runs had started)`,
    );

    service = await startTriggerService(serviceEnv());
    for (const wf of workflows)
      await waitFor(
        `${messages} runs of ${wf}`,
        async () => ((await inTemporal(wf)) >= messages ? true : undefined),
        240_000,
      );
    await waitFor(
      'every offset committed',
      async () => {
        const committed = await broker.committed('triggers-test', 'default.signups');
        return (committed[0] ?? 0) + (committed[1] ?? 0) === messages ? true : undefined;
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 2000)); // visibility is eventually consistent: a late duplicate would show by now
    for (const wf of workflows) {
      assert.equal(await inTemporal(wf), messages, `exactly ${messages} runs of ${wf} in Temporal`);
      const ids = new Set<string>();
      for await (const execution of stack.client.workflow.list({ query: `MiniZapsWorkflowId = '${wf}'` }))
        ids.add(execution.workflowId);
      assert.equal(ids.size, messages, 'one distinct run per message');
    }
    process.stdout.write(
      `# kafka sigkill: ${atKill} runs had started when the service was killed; ${messages * workflows.length} after the restart\n`,
    );
  });
});

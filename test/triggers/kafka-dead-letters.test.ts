import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mintToken } from '../../src/shared/tokens.js';
import { DEAD_LETTER_BOUNDS } from '../../src/triggers/kafka/dead-letter-record.js';
import { kafkaSkipReason, startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startTriggerService, type TriggerService } from '../helpers/trigger-service.js';

const skip = kafkaSkipReason();
const SECRET = 'kafka-dead-letters-test-secret-long-enough';
/** acme's topic, granted to globex: one topic read by two tenants' triggers. */
const TOPIC = 'acme.payments';
const GRANTS = `globex=${TOPIC}`;

interface DeadLetter {
  id: string;
  triggerId: string;
  offset: string;
  reason: string;
  error: string;
  value: string | null;
  valueEncoding: string;
  valueBytes: number;
  valueTruncated: boolean;
  headers: { name: string; value: string | null }[];
  status: string;
}

describe('Kafka dead letters through the API (a real Kafka 4.1 broker, two tenants)', { skip }, () => {
  let stack: Stack;
  let broker: KafkaBroker;
  let service: TriggerService;
  const auth: Record<string, Record<string, string>> = {};
  const triggerOf: Record<string, string> = {};
  const workflowOf: Record<string, string> = {};
  const serviceEnv = (group: string) => ({
    ...stack.workerEnv,
    KAFKA_BROKERS: broker.brokers,
    KAFKA_GROUP_ID: group,
    KAFKA_TOPIC_GRANTS: GRANTS,
  });
  const as = (tenant: string, method: string, path: string, body?: unknown) =>
    stack.call(method, path, body, auth[tenant]);
  const deadLetters = async (tenant: string, query = '') => {
    const res = await as(tenant, 'GET', `/v1/triggers/${triggerOf[tenant]}/dead-letters?limit=200${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items as DeadLetter[];
  };

  const binary = Buffer.alloc(40_000, 0xff); // not UTF-8, and above the stored bound
  const hugeText = 'x'.repeat(200_000); // UTF-8, not JSON, far above the stored bound

  before(async () => {
    broker = await startKafka();
    stack = await startStack({
      env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET, KAFKA_TOPIC_GRANTS: GRANTS },
    });
    for (const tenant of ['acme', 'globex'])
      auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
    auth.reader = {
      authorization: `Bearer ${await mintToken(SECRET, { tenant: 'acme', scopes: ['workflows:read'] })}`,
    };
    await broker.createTopic(TOPIC);
    for (const [tenant, filter] of [
      ['acme', 'value.amount + 1 > 1'],
      ['globex', undefined],
    ] as const) {
      const wf = await as(tenant, 'POST', '/v1/workflows', {
        name: `${tenant} payments`,
        steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger.value' } }],
      });
      assert.equal(wf.status, 201, JSON.stringify(wf.body));
      const created = await as(tenant, 'POST', `/v1/workflows/${wf.body.id}/triggers`, {
        type: 'kafka',
        topic: TOPIC,
        ...(filter ? { filter } : {}),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      triggerOf[tenant] = created.body.id;
      workflowOf[tenant] = wf.body.id;
    }
    service = await startTriggerService(serviceEnv('dead-letters-test'));
    await service.consuming(TOPIC);
    await broker.produce(TOPIC, [
      { key: 'poison', value: 'not json {', headers: { origin: 'test' } },
      { key: 'lots', value: JSON.stringify({ amount: 'lots' }) },
      { key: 'binary', value: binary },
      { key: 'huge', value: hugeText },
      { key: 'good', value: JSON.stringify({ amount: 5 }) },
    ]);
    await waitFor(
      'the dead letters of both tenants',
      async () =>
        (await deadLetters('acme')).length === 4 && (await deadLetters('globex')).length === 3 ? true : undefined,
      60_000,
    );
  });
  after(async () => {
    await service?.kill();
    await stack?.stop();
    await broker?.stop();
  });

  test('a poison message shows as undecodable for every trigger of its topic, each in its own tenant, and a failing filter only for its trigger', async () => {
    const acme = await deadLetters('acme');
    const globex = await deadLetters('globex');
    const byOffset = (items: DeadLetter[]) => Object.fromEntries(items.map((d) => [d.offset, d.reason]));
    assert.deepEqual(byOffset(acme), {
      '0': 'undecodable',
      '1': 'filter_failed',
      '2': 'undecodable',
      '3': 'undecodable',
    });
    assert.deepEqual(byOffset(globex), { '0': 'undecodable', '2': 'undecodable', '3': 'undecodable' });
    const poison = acme.find((d) => d.offset === '0');
    assert.equal(poison?.value, 'not json {');
    assert.equal(poison?.triggerId, triggerOf.acme);
    assert.match(poison?.error ?? '', /not UTF-8 JSON/);
    assert.deepEqual(poison?.headers, [{ name: 'origin', value: 'test', encoding: 'utf8', truncated: false }]);
    const filtered = acme.find((d) => d.offset === '1');
    assert.equal(filtered?.value, JSON.stringify({ amount: 'lots' }));
    assert.match(filtered?.error ?? '', /.+/);
    const first = await as('acme', 'GET', `/v1/triggers/${triggerOf.acme}/dead-letters?limit=3`);
    assert.equal(first.body.items.length, 3);
    const rest = await as(
      'acme',
      'GET',
      `/v1/triggers/${triggerOf.acme}/dead-letters?limit=3&cursor=${first.body.nextCursor}`,
    );
    assert.equal(rest.body.nextCursor, null);
    assert.deepEqual(
      [...first.body.items, ...rest.body.items].map((d: DeadLetter) => d.id).sort(),
      acme.map((d) => d.id).sort(),
      'two pages hold every dead letter once',
    );
    const onlyFilter = await deadLetters('acme', '&reason=filter_failed');
    assert.deepEqual(
      onlyFilter.map((d) => d.offset),
      ['1'],
      'the reason filter keeps only the failed filter',
    );
  });

  test('a huge or binary value is stored cut at its bound, with its size as it came, not whole', async () => {
    const stored = await deadLetters('acme');
    const bin = stored.find((d) => d.offset === '2');
    const huge = stored.find((d) => d.offset === '3');
    assert.equal(bin?.valueEncoding, 'base64');
    assert.equal(bin?.valueBytes, binary.length);
    assert.equal(bin?.valueTruncated, true);
    assert.equal(Buffer.from(bin?.value ?? '', 'base64').length, DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES);
    assert.equal(huge?.valueEncoding, 'utf8');
    assert.equal(huge?.valueBytes, hugeText.length);
    assert.equal(huge?.valueTruncated, true);
    assert.equal(huge?.value?.length, DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES);
    const { rows } = await stack.pool.query<{ longest: number }>(
      'SELECT max(octet_length(value)) AS longest FROM kafka_dead_letters',
    );
    assert.ok((rows[0]?.longest ?? Infinity) <= 2 * DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES, 'no value is stored whole');
  });

  test("another tenant's trigger answers 404 for its dead letters, and a bad query or a missing scope is problem+json", async () => {
    for (const path of [
      `/v1/triggers/${triggerOf.acme}/dead-letters`,
      `/v1/triggers/${triggerOf.acme}/dead-letters/${(await deadLetters('acme'))[0]?.id}`,
    ]) {
      const res = await as('globex', 'GET', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.code, 'NOT_FOUND');
    }
    const victim = (await deadLetters('acme'))[0];
    const discard = await as('globex', 'DELETE', `/v1/triggers/${triggerOf.acme}/dead-letters/${victim?.id}`);
    assert.equal(discard.status, 404, "another tenant cannot discard acme's dead letter");
    for (const query of ['limit=0', 'status=bogus', 'reason=nope', 'cursor=not-a-cursor']) {
      const res = await as('acme', 'GET', `/v1/triggers/${triggerOf.acme}/dead-letters?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(typeof res.body.code, 'string');
      assert.equal(typeof res.body.type, 'string');
    }
    const reader = await as('reader', 'GET', `/v1/triggers/${triggerOf.acme}/dead-letters`);
    assert.equal(reader.status, 403, 'listing needs runs:read');
    const doc = await stack.call('GET', '/openapi.json');
    const route = doc.body.paths['/v1/triggers/{id}/dead-letters']?.get;
    assert.deepEqual(route?.security, [{ bearer: ['runs:read'] }], 'the route declares its scope in the document');
  });

  test('discard takes a dead letter off the open list once; it stays listed as discarded', async () => {
    const target = (await deadLetters('acme')).find((d) => d.offset === '0');
    assert.ok(target);
    const path = `/v1/triggers/${triggerOf.acme}/dead-letters/${target.id}`;
    assert.equal((await as('acme', 'DELETE', path)).status, 204);
    assert.ok(!(await deadLetters('acme')).some((d) => d.id === target.id), 'gone from the open list');
    const discarded = await deadLetters('acme', '&status=discarded');
    assert.deepEqual(
      discarded.map((d) => [d.id, d.status]),
      [[target.id, 'discarded']],
    );
    const again = await as('acme', 'DELETE', path);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'DEAD_LETTER_RESOLVED');
  });

  test("re-drive starts the message's run through the corrected filter, once; a message stored cut or still undecodable is refused", async () => {
    const patched = await as('acme', 'PATCH', `/v1/triggers/${triggerOf.acme}`, { filter: 'value.amount != null' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const redrive = (tenant: string, d: DeadLetter | undefined) =>
      as(tenant, 'POST', `/v1/triggers/${triggerOf[tenant]}/dead-letters/${d?.id}/redrive`);
    const open = await deadLetters('acme');
    const filtered = open.find((d) => d.offset === '1');
    const res = await redrive('acme', filtered);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const run = await waitFor('the re-driven run to complete', async () => {
      const r = await as('acme', 'GET', `/v1/runs/${res.body.runId}`);
      return r.body?.status === 'completed' ? r.body : undefined;
    });
    assert.deepEqual(run.result, { amount: 'lots' });
    assert.deepEqual(run.source, { type: 'kafka', triggerId: triggerOf.acme, topic: TOPIC, partition: 0, offset: '1' });
    assert.deepEqual(
      (await deadLetters('acme', '&status=redriven')).map((d) => d.offset),
      ['1'],
    );
    const twice = await redrive('acme', filtered);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'DEAD_LETTER_RESOLVED');

    const cut = await redrive(
      'acme',
      open.find((d) => d.offset === '2'),
    );
    assert.equal(cut.status, 409);
    assert.equal(cut.body.code, 'NOT_REDRIVABLE');
    const poison = (await deadLetters('globex')).find((d) => d.offset === '0');
    const undecodable = await redrive('globex', poison);
    assert.equal(undecodable.status, 409);
    assert.equal(undecodable.body.code, 'NOT_REDRIVABLE');
    assert.match(undecodable.body.detail, /not UTF-8 JSON/);
  });

  test('messages delivered again (a new consumer group reads the topic from its start) record no second dead letter', async () => {
    const before = await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM kafka_dead_letters');
    await service.kill('SIGKILL');
    service = await startTriggerService(serviceEnv('dead-letters-again'));
    await waitFor(
      'the second group to read the whole topic',
      async () => ((await broker.committed('dead-letters-again', TOPIC))[0] === 5 ? true : undefined),
      60_000,
    );
    const afterRows = await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM kafka_dead_letters');
    assert.equal(afterRows.rows[0]?.n, before.rows[0]?.n);
    assert.equal((await deadLetters('acme', '&status=discarded')).length, 1, 'the discarded one stays discarded');
    const runs = await as('acme', 'GET', `/v1/runs?workflowId=${workflowOf.acme}&limit=100`);
    assert.deepEqual(
      (runs.body.items as { source: { offset: string } }[]).map((r) => r.source.offset).sort(),
      ['1', '4'],
      'the re-driven message, delivered again through the corrected filter, started no second run',
    );
  });
});

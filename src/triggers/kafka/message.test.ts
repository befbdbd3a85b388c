import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { DEFAULT_RUN_LIMITS } from '../../shared/run-limits.js';
import type { KafkaTriggerRow } from '../../db/triggers-repo.js';
import { judge } from './match.js';
import { decodeMessage, type TriggerMessage } from './message.js';

const raw = (value: Buffer | null): KafkaMessage => ({
  key: Buffer.from('k'),
  value,
  timestamp: '1700000000000',
  attributes: 0,
  offset: '7',
  headers: { source: Buffer.from('crm') },
});
const limits = { maxBytes: 1024, maxDepth: 8 };

test('a JSON record decodes to {key, value, headers, topic, partition, offset}', () => {
  const d = decodeMessage('users', 2, raw(Buffer.from('{"email":"a@example.com"}')), limits);
  assert.ok(d.ok);
  assert.deepEqual(d.message, {
    key: 'k',
    value: { email: 'a@example.com' },
    headers: { source: 'crm' },
    topic: 'users',
    partition: 2,
    offset: '7',
    timestamp: '2023-11-14T22:13:20.000Z',
  });
});

test('records that are not UTF-8 JSON, nest too deep or exceed the size bound are refused with their reason', () => {
  const notJson = decodeMessage('t', 0, raw(Buffer.from('not json')), limits);
  assert.deepEqual(notJson.ok ? undefined : notJson.reason, 'undecodable');
  const notUtf8 = decodeMessage('t', 0, raw(Buffer.from([0xff, 0xfe])), limits);
  assert.deepEqual(notUtf8.ok ? undefined : notUtf8.reason, 'undecodable');
  const deep = decodeMessage('t', 0, raw(Buffer.from(`${'['.repeat(9)}${']'.repeat(9)}`)), limits);
  assert.match(deep.ok ? '' : deep.error, /deeper than 8/);
  const large = decodeMessage('t', 0, raw(Buffer.alloc(2000, 0x20)), limits);
  assert.deepEqual(large.ok ? undefined : large.reason, 'too_large');
  const tombstone = decodeMessage('t', 0, raw(null), limits);
  assert.ok(tombstone.ok && tombstone.message.value === null);
});

const trigger = (config: KafkaTriggerRow['config']): KafkaTriggerRow => ({
  id: 'tr',
  tenantId: 't',
  workflowId: 'w',
  type: 'kafka',
  version: null,
  paused: false,
  config,
  createdAt: new Date(),
  updatedAt: new Date(),
  startAt: null,
  startOffsets: null,
});
const message = (value: unknown): TriggerMessage => ({
  key: null,
  value,
  headers: {},
  topic: 'users',
  partition: 1,
  offset: '42',
  timestamp: '',
});

test('a trigger starts a run only when its filter is true, named by partition and offset unless it has a key', async () => {
  const pro = trigger({ topic: 'users', filter: "value.plan = 'pro'" });
  assert.deepEqual(await judge(pro, message({ plan: 'pro' }), DEFAULT_RUN_LIMITS), {
    kind: 'start',
    identity: 'users\n1\n42',
  });
  assert.deepEqual(await judge(pro, message({ plan: 'free' }), DEFAULT_RUN_LIMITS), { kind: 'skip' });
  assert.deepEqual(await judge(pro, message({}), DEFAULT_RUN_LIMITS), { kind: 'skip' });
  const keyed = trigger({ topic: 'users', key: 'value.eventId' });
  assert.deepEqual(await judge(keyed, message({ eventId: 'e-1' }), DEFAULT_RUN_LIMITS), {
    kind: 'start',
    identity: 'key\n"e-1"',
  });
});

test('a filter that fails, or one past the expression budgets, and a key that gives no string are dead letters with a reason', async () => {
  const failing = await judge(
    trigger({ topic: 'users', filter: 'value.amount + 1 > 1' }),
    message({ amount: 'lots' }),
    DEFAULT_RUN_LIMITS,
  );
  assert.equal(failing.kind === 'dead' && failing.reason, 'filter_failed');
  const costly = await judge(
    trigger({ topic: 'users', filter: '$count([1..5000000]) > 0' }),
    message({}),
    DEFAULT_RUN_LIMITS,
  );
  assert.match(costly.kind === 'dead' ? costly.error : '', /EXPRESSION_LIMIT/);
  const keyless = await judge(trigger({ topic: 'users', key: 'value.missing' }), message({}), DEFAULT_RUN_LIMITS);
  assert.equal(keyless.kind === 'dead' && keyless.reason, 'key_failed');
});

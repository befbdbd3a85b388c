import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Admin } from 'kafkajs';
import type { KafkaTriggerRow, StartOffsets, TriggersRepo } from '../../db/triggers-repo.js';
import { createLogger } from '../../shared/logger.js';
import { isAfterStart, START_CLOCK_SKEW_MS } from './start-offsets.js';
import { createTriggerReader } from './trigger-reader.js';

const logger = createLogger('silent', 'test');

const row = (
  id: string,
  start: Pick<KafkaTriggerRow, 'startAt' | 'startOffsets'>,
  topic = 'orders',
): KafkaTriggerRow => ({
  id,
  tenantId: 't',
  workflowId: 'w',
  type: 'kafka',
  version: null,
  paused: false,
  config: { topic },
  createdAt: new Date(),
  updatedAt: new Date(),
  ...start,
});

/** A repo whose reads wait until released, counting them; only what the reader calls. */
function fakeRepo(rows: () => KafkaTriggerRow[]) {
  const waiting: (() => void)[] = [];
  const resolved: { id: string; at: Date; offsets: StartOffsets }[] = [];
  let reads = 0;
  const repo = {
    async listActiveKafka() {
      reads++;
      const seen = rows().map((r) => ({ ...r })); // what the database holds when the query begins
      await new Promise<void>((r) => waiting.push(r));
      return seen;
    },
    async resolveKafkaStart(_tenantId: string, id: string, at: Date, offsets: StartOffsets) {
      resolved.push({ id, at, offsets });
    },
  };
  return {
    repo: repo as unknown as TriggersRepo,
    resolved,
    reads: () => reads,
    release: () => waiting.splice(0).forEach((r) => r()),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a read asked while another is under way gets one begun after it, shared by every caller that asked meanwhile', async () => {
  let version = 1;
  const fake = fakeRepo(() => [row(`v${version}`, { startAt: null, startOffsets: null })]);
  const reader = createTriggerReader(fake.repo, {} as Admin, logger);
  const first = reader.read();
  await tick();
  version = 2; // a trigger saved while the first read is under way
  const [second, third] = [reader.read(), reader.read()];
  fake.release();
  assert.equal((await first)[0]?.id, 'v1');
  await tick();
  assert.equal(fake.reads(), 2, 'the two callers that asked meanwhile share one read');
  fake.release();
  assert.equal((await second)[0]?.id, 'v2', 'the later caller sees what was saved before it asked');
  assert.equal(await third, await second);
});

test('a start recorded by time is looked up a minute earlier, stored once, and a topic that does not exist yet starts at 0', async () => {
  const at = new Date('2026-12-07T10:00:00.000Z');
  const asked: number[] = [];
  const admin = {
    listTopics: async () => ['orders'],
    fetchTopicOffsetsByTimestamp: async (_topic: string, ts: number) => {
      asked.push(ts);
      return [
        { partition: 0, offset: '12' },
        { partition: 1, offset: '40' },
      ];
    },
  } as unknown as Admin;
  const fake = fakeRepo(() => [
    row('by-time', { startAt: at, startOffsets: null }),
    row('no-topic', { startAt: at, startOffsets: null }, 'later'),
    row('known', { startAt: at, startOffsets: { '0': '5' } }),
  ]);
  const reader = createTriggerReader(fake.repo, admin, logger);
  const reading = reader.read();
  await tick();
  fake.release();
  const rows = await reading;
  assert.deepEqual(asked, [at.getTime() - START_CLOCK_SKEW_MS]);
  assert.deepEqual(
    fake.resolved.map((r) => [r.id, r.offsets]),
    [
      ['by-time', { '0': '12', '1': '40' }],
      ['no-topic', {}],
    ],
  );
  const [byTime, noTopic, known] = rows;
  assert.ok(byTime && noTopic && known);
  assert.deepEqual(
    [isAfterStart(byTime, 0, '11'), isAfterStart(byTime, 0, '12'), isAfterStart(byTime, 2, '0')],
    [false, true, true],
    'below its start on a partition it named: not its message; a partition added since: from 0',
  );
  assert.ok(isAfterStart(noTopic, 0, '0'));
  assert.ok(isAfterStart(row('legacy', { startAt: null, startOffsets: null }), 0, '0'), 'no start: every message');
});

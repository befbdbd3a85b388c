import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { mintToken } from '../../src/shared/tokens.js';
import { offersTo } from '../helpers/events.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

const SECRET = 'events-test-secret-that-is-long-enough';

/**
 * `POST /v1/events` and the definitions that wait on keys: tenancy, scopes, and every class of bad
 * input answered with problem+json and a stable type, never a 500, a hang or a run changed.
 */
describe('events by key: tenancy and bad input (real Temporal, real PostgreSQL, HS256 tokens)', () => {
  const auth: Record<string, Record<string, string>> = {};
  const suite = useStack({
    env: {
      AUTH_MODE: 'hs256',
      AUTH_HS256_SECRET: SECRET,
      EVENT_PAYLOAD_MAX_BYTES: '1024',
      API_BODY_LIMIT_BYTES: '65536',
    },
  });
  before(async () => {
    for (const tenant of ['acme', 'globex'])
      auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
    auth.reader = { authorization: `Bearer ${await mintToken(SECRET, { tenant: 'acme', scopes: ['runs:read'] })}` };
  });
  const as = (who: string, method: string, path: string, body?: unknown) =>
    suite.stack.call(method, path, body, auth[who] ?? {});

  const waiting = (who: string) =>
    createWorkflow(
      { ...suite.stack, call: (m: string, p: string, b?: unknown) => as(who, m, p, b) },
      {
        name: 'wait on key',
        steps: [
          { id: 'paid', type: 'wait_for_event', config: { name: 'paid', key: '{{ trigger.order }}' } },
          { id: 'done', type: 'succeed', config: { output: '{{ steps.paid.output }}' } },
        ],
      },
    );

  it("a tenant's event never reaches another tenant's run on the same name and key", async () => {
    const order = `order-${randomUUID().slice(0, 8)}`;
    const stackOf = (who: string) => ({
      ...suite.stack,
      call: (m: string, p: string, b?: unknown) => as(who, m, p, b),
    });
    const acmeRun = await trigger(stackOf('acme'), await waiting('acme'), { order });
    await waitForStatus(stackOf('acme'), acmeRun, 'waiting');
    const foreign = await as('globex', 'POST', '/v1/events', { name: 'paid', key: order, payload: { from: 'globex' } });
    assert.equal(foreign.status, 202);
    const own = await as('acme', 'POST', '/v1/events', { name: 'paid', key: order, payload: { from: 'acme' } });
    assert.equal(own.status, 202);
    assert.deepEqual((await waitForEnd(stackOf('acme'), acmeRun)).result, { from: 'acme' });
    assert.deepEqual(
      (await offersTo(suite.stack.client, acmeRun)).map((o) => o.eventId),
      [own.body.eventId],
    );
    // globex's event was kept for globex: its own run on the key takes it.
    const globexRun = await trigger(stackOf('globex'), await waiting('globex'), { order });
    assert.deepEqual((await waitForEnd(stackOf('globex'), globexRun)).result, { from: 'globex' });
  });

  it('posting events needs a token with runs:write', async () => {
    const body = { name: 'paid', key: 'k1', payload: {} };
    const anonymous = await suite.stack.call('POST', '/v1/events', body);
    assert.equal(anonymous.status, 401);
    const reader = await as('reader', 'POST', '/v1/events', body);
    assert.equal(reader.status, 403);
    assert.equal(reader.body.code, 'FORBIDDEN');
  });

  it('every class of bad event is refused with problem+json and a stable code', async () => {
    const cases: [string, unknown, number, string][] = [
      ['no name', { key: 'k', payload: {} }, 400, 'INVALID_REQUEST'],
      ['no key', { name: 'paid' }, 400, 'INVALID_REQUEST'],
      ['a name with a space', { name: 'pa id', key: 'k' }, 400, 'INVALID_REQUEST'],
      ['a name of 101 characters', { name: 'n'.repeat(101), key: 'k' }, 400, 'INVALID_REQUEST'],
      ['an empty key', { name: 'paid', key: '' }, 400, 'INVALID_REQUEST'],
      ['a key of 201 characters', { name: 'paid', key: 'k'.repeat(201) }, 400, 'INVALID_REQUEST'],
      ['a key with a newline', { name: 'paid', key: 'a\nb' }, 400, 'INVALID_REQUEST'],
      ['a key outside ASCII', { name: 'paid', key: 'ключ' }, 400, 'INVALID_REQUEST'],
      ['a key as a number', { name: 'paid', key: 42 }, 400, 'INVALID_REQUEST'],
      ['an id with a slash', { name: 'paid', key: 'k', id: 'a/b' }, 400, 'INVALID_REQUEST'],
      ['an id of 101 characters', { name: 'paid', key: 'k', id: 'i'.repeat(101) }, 400, 'INVALID_REQUEST'],
      ['an unknown field', { name: 'paid', key: 'k', tenant: 'globex' }, 400, 'INVALID_REQUEST'],
      ['an array', [{ name: 'paid', key: 'k' }], 400, 'INVALID_REQUEST'],
      [
        'a payload over EVENT_PAYLOAD_MAX_BYTES',
        { name: 'paid', key: 'k', payload: 'x'.repeat(2000) },
        413,
        'EVENT_TOO_LARGE',
      ],
      [
        'a body over API_BODY_LIMIT_BYTES',
        { name: 'paid', key: 'k', payload: 'x'.repeat(70_000) },
        413,
        'BODY_TOO_LARGE',
      ],
      [
        'a payload nested 10,000 deep',
        `{"name":"paid","key":"k","payload":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
        400,
        'JSON_TOO_DEEP',
      ],
      ['not JSON', '{"name": "paid", "key": ', 400, 'MALFORMED_REQUEST'],
    ];
    for (const [what, body, status, code] of cases) {
      const res = await as('acme', 'POST', '/v1/events', body);
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, what);
      assert.equal(res.body.code, code, `${what}: ${JSON.stringify(res.body)}`);
    }
  });

  it('definitions that wait on keys are checked: name or anyOf, keys as written, cancelOn', async () => {
    const wait = (config: unknown) => ({
      name: 'bad',
      steps: [{ id: 'w', type: 'wait_for_event', config }],
    });
    const cases: [string, unknown, string][] = [
      ['name and anyOf', wait({ name: 'a', anyOf: ['b'] }), '/steps/0/config'],
      ['neither name nor anyOf', wait({ key: 'k' }), '/steps/0/config'],
      ['anyOf of 11 names', wait({ anyOf: Array.from({ length: 11 }, (_, i) => `e${i}`) }), '/steps/0/config/anyOf'],
      ['an empty anyOf', wait({ anyOf: [] }), '/steps/0/config/anyOf'],
      ['a written key with a space', wait({ name: 'a', key: 'not a key' }), '/steps/0/config/key'],
      ['a key template that is not JSONata', wait({ name: 'a', key: '{{ trigger. }}' }), '/steps/0/config/key'],
      [
        'a cancelOn key with a space',
        { name: 'bad', cancelOn: [{ name: 'x', key: 'a b' }], steps: [{ id: 's', type: 'succeed' }] },
        '/cancelOn/0/key',
      ],
      [
        'a cancelOn key template that is not JSONata',
        { name: 'bad', cancelOn: [{ name: 'x', key: '{{ ( }}' }], steps: [{ id: 's', type: 'succeed' }] },
        '/cancelOn/0/key',
      ],
      [
        'a cancelOn without a key',
        { name: 'bad', cancelOn: [{ name: 'x' }], steps: [{ id: 's', type: 'succeed' }] },
        '/cancelOn/0/key',
      ],
    ];
    for (const [what, definition, pointer] of cases) {
      const res = await as('acme', 'POST', '/v1/workflows', definition);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'INVALID_DEFINITION', what);
      assert.ok(
        res.body.errors.some((e: { pointer: string }) => e.pointer === pointer),
        `${what}: ${JSON.stringify(res.body.errors)}`,
      );
    }
  });

  it('a cancelOn key rendered invalid from the trigger fails the run with INVALID_EVENT_KEY', async () => {
    const stackOf = { ...suite.stack, call: (m: string, p: string, b?: unknown) => as('acme', m, p, b) };
    const wf = await createWorkflow(stackOf, {
      name: 'cancel on a bad key',
      cancelOn: [{ name: 'stop', key: '{{ trigger.key }}' }],
      steps: [{ id: 's', type: 'succeed' }],
    });
    const run = await waitForEnd(stackOf, await trigger(stackOf, wf, { key: { nested: 'object' } }));
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.code, 'INVALID_EVENT_KEY');
  });
});

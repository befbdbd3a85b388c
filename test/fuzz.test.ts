import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createApp } from '../src/api/app.js';
import { STEP_TYPES } from '../src/definitions/schema.js';
import { startStack, type Stack } from './helpers/stack.js';

setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

const ROUTES: [string, string][] = [
  ['POST', '/v1/workflows'],
  ['POST', '/v1/workflows/validate'],
  ['GET', '/v1/workflows?limit={x}&cursor={x}'],
  ['GET', '/v1/workflows/{x}'],
  ['PUT', '/v1/workflows/{x}'],
  ['DELETE', '/v1/workflows/{x}'],
  ['GET', '/v1/workflows/{x}/versions/{x}'],
  ['GET', '/v1/workflows/{x}/diagram?version={x}'],
  ['POST', '/v1/workflows/{x}/runs'],
  ['POST', '/v1/workflows/{x}/webhooks'],
  ['GET', '/v1/runs?status={x}&since={x}&limit={x}&workflowId={x}&cursor={x}'],
  ['GET', '/v1/runs/{x}'],
  ['POST', '/v1/runs/{x}/cancel'],
  ['POST', '/v1/runs/{x}/events/{x}'],
  ['GET', '/v1/dead-letters?httpStatus={x}&status={x}'],
  ['GET', '/v1/dead-letters/groups?httpStatus={x}'],
  ['POST', '/v1/dead-letters/redrive'],
  ['POST', '/v1/dead-letters/{x}/redrive'],
  ['DELETE', '/v1/dead-letters/{x}?reason={x}'],
  ['PUT', '/v1/secrets/{x}'],
  ['POST', '/hooks/{x}'],
  ['POST', '/codec/decode'],
  ['GET', '/{x}'],
];

/** Anything a client might send: JSON of any shape, truncated JSON, or bytes that are not JSON at all. */
const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)),
  fc.string({ unit: 'binary' }),
  fc.constant(''),
);
const segment = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('..', '%00', '%2F', 'null', '-1', '1e309', 'a'.repeat(300)));
const headers = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''),
    'idempotency-key': fc.string({ maxLength: 300 }),
    authorization: fc.oneof(fc.string(), fc.constant('Bearer a.b.c'), fc.constant('Bearer eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJ4In0.')),
    'x-signature': fc.string(),
  },
  { requiredKeys: [] },
);
/** Definitions that look almost right: real step types and field names, wrong shapes and values. */
const step = fc.record(
  {
    id: fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string()),
    type: fc.oneof(fc.constantFrom(...STEP_TYPES), fc.string()),
    config: fc.oneof(fc.object(), fc.record({ url: fc.string(), duration: fc.string(), expression: fc.string(), name: fc.string(), workflowId: fc.string() }, { requiredKeys: [] })),
    next: fc.constantFrom('a', 'b', 'zzz'),
    when: fc.string(),
    cases: fc.array(fc.record({ when: fc.string(), next: fc.string() })),
    branches: fc.array(fc.array(fc.object(), { maxLength: 2 }), { maxLength: 2 }),
    items: fc.string(),
    retry: fc.object(),
  },
  { requiredKeys: ['id', 'type'] },
);
const definition = fc.record({ name: fc.oneof(fc.string(), fc.integer()), steps: fc.array(step, { maxLength: 6 }), maxSteps: fc.integer(), timeout: fc.string() }, { requiredKeys: [] });

describe('property: no input makes the API fail (real PostgreSQL and Temporal behind)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  async function send(app: ReturnType<typeof createApp>, method: string, path: string, payload: string, hdrs: Record<string, string>): Promise<number> {
    const res = await Promise.race([
      app.request(path, { method, headers: hdrs, body: method === 'GET' || method === 'DELETE' ? undefined : payload }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${method} ${path} hung`)), 10_000)),
    ]);
    await res.arrayBuffer();
    return res.status;
  }

  it('thousands of random and malformed bodies, headers and path values at every endpoint: never a 5xx, never a hang, flat memory', async () => {
    const authed = createApp({ ...stack.deps, config: { ...stack.deps.config, AUTH_MODE: 'hs256', AUTH_HS256_SECRET: 'fuzz-secret-that-is-long-enough-for-hs256' } });
    const property = fc.asyncProperty(fc.constantFrom(...ROUTES), fc.array(segment, { minLength: 6, maxLength: 6 }), body, headers, fc.boolean(), async ([method, template], values, payload, hdrs, withAuth) => {
      let i = 0;
      const path = template.replace(/\{x\}/g, () => encodeURIComponent(values[i++] ?? ''));
      const status = await send(withAuth ? authed : stack.app, method, path, payload, hdrs);
      assert.ok(status < 500, `${method} ${path} answered ${status}`);
    });
    await fc.assert(property, { numRuns: 300 });
    gc();
    const before = process.memoryUsage().heapUsed;
    await fc.assert(property, { numRuns: 2000 });
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    assert.ok(grown < 64, `heap grew ${grown.toFixed(1)} MB over 2,000 requests`);
  });

  it('random definitions are refused with 400 problem+json listing problems, or accepted; never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(definition, async (def) => {
        const res = await stack.call('POST', '/v1/workflows/validate', def);
        assert.ok(res.status === 200 || res.status === 400, `validate answered ${res.status}`);
        if (res.status === 400) assert.ok(res.body.errors.length > 0 && res.body.errors.every((e: { pointer: string }) => typeof e.pointer === 'string'));
      }),
      { numRuns: 1000 },
    );
  });
});

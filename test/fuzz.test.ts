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
const segment = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('..', '%00', '%2F', 'null', '-1', '1e309', 'a'.repeat(300)),
);
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
    ),
    'idempotency-key': fc.string({ maxLength: 300 }),
    authorization: fc.oneof(
      fc.string(),
      fc.constant('Bearer a.b.c'),
      fc.constant('Bearer eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJ4In0.'),
    ),
    'x-signature': fc.string(),
  },
  { requiredKeys: [] },
);
/** Definitions that look almost right: real step types and field names, wrong shapes and values. */
const step = fc.record(
  {
    id: fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string()),
    type: fc.oneof(fc.constantFrom(...STEP_TYPES), fc.string()),
    config: fc.oneof(
      fc.object(),
      fc.record(
        {
          url: fc.string(),
          duration: fc.string(),
          expression: fc.string(),
          name: fc.string(),
          workflowId: fc.string(),
        },
        { requiredKeys: [] },
      ),
    ),
    next: fc.constantFrom('a', 'b', 'zzz'),
    when: fc.string(),
    cases: fc.array(fc.record({ when: fc.string(), next: fc.string() })),
    branches: fc.array(fc.array(fc.object(), { maxLength: 2 }), { maxLength: 2 }),
    items: fc.string(),
    retry: fc.object(),
  },
  { requiredKeys: ['id', 'type'] },
);
const definition = fc.record(
  {
    name: fc.oneof(fc.string(), fc.integer()),
    steps: fc.array(step, { maxLength: 6 }),
    maxSteps: fc.integer(),
    timeout: fc.string(),
  },
  { requiredKeys: [] },
);

describe('property: no input makes the API fail (real PostgreSQL and Temporal behind)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  async function send(
    app: ReturnType<typeof createApp>,
    method: string,
    path: string,
    payload: string,
    hdrs: Record<string, string>,
  ): Promise<number> {
    const res = await Promise.race([
      app.request(path, { method, headers: hdrs, body: method === 'GET' || method === 'DELETE' ? undefined : payload }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${method} ${path} hung`)), 60_000)),
    ]);
    await res.arrayBuffer();
    return res.status;
  }

  it('thousands of random and malformed bodies, headers and path values at every endpoint: never a 5xx, never a hang, flat memory', async () => {
    const authed = createApp({
      ...stack.deps,
      config: {
        ...stack.deps.config,
        AUTH_MODE: 'hs256',
        AUTH_HS256_SECRET: 'fuzz-secret-that-is-long-enough-for-hs256',
      },
    });
    const property = fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      fc.array(segment, { minLength: 6, maxLength: 6 }),
      body,
      headers,
      fc.boolean(),
      async ([method, template], values, payload, hdrs, withAuth) => {
        let i = 0;
        const path = template.replace(/\{x\}/g, () => encodeURIComponent(values[i++] ?? ''));
        const status = await send(withAuth ? authed : stack.app, method, path, payload, hdrs);
        assert.ok(status < 500, `${method} ${path} answered ${status}`);
      },
    );
    await fc.assert(property, { numRuns: 300 });
    gc();
    const before = process.memoryUsage().heapUsed;
    await fc.assert(property, { numRuns: 2000 });
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    assert.ok(grown < 64, `heap grew ${grown.toFixed(1)} MB over 2,000 requests`);
  });

  /** Every operation of the OpenAPI document that takes a JSON body, plus the routes outside it that read one. */
  async function jsonRoutes(workflowId: string, hookUrl: string): Promise<[string, string][]> {
    const doc: { paths: Record<string, Record<string, { requestBody?: unknown }>> } = (
      await stack.call('GET', '/openapi.json')
    ).body;
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody !== undefined)
        .map(([method]): [string, string] => [
          method.toUpperCase(),
          path.replace(/\{id\}/g, workflowId).replace(/\{[^}]+\}/g, 'x'),
        ]),
    );
    assert.ok(routes.length >= 10, `the document lists ${routes.length} operations with bodies`);
    return [...routes, ['POST', hookUrl], ['POST', '/codec/decode']];
  }

  it('bodies nested deeper than API_JSON_MAX_DEPTH are refused with 400 json-too-deep at every JSON route, webhooks included', async () => {
    const wf = (await stack.call('POST', '/v1/workflows', { name: 'deep', steps: [{ id: 'a', type: 'succeed' }] })).body
      .id;
    const hook = (await stack.call('POST', `/v1/workflows/${wf}/webhooks`, {})).body.url;
    const max = stack.config.API_JSON_MAX_DEPTH;
    const deep = [
      '['.repeat(5000) + ']'.repeat(5000),
      '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
      '{"steps":' + '[{"a":'.repeat(3000) + 'null' + '}]'.repeat(3000) + '}',
      '['.repeat(200_000),
      JSON.stringify({ name: 'x', steps: [] }).replace('[]', '['.repeat(max) + ']'.repeat(max)),
    ];
    for (const [method, path] of await jsonRoutes(wf, hook)) {
      for (const body of deep) {
        const res = await stack.call(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} answered ${res.status} to a body ${body.length} long`);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.equal(res.body.code, 'JSON_TOO_DEEP');
        assert.equal(res.body.type, 'https://mini-zaps.dev/problems/json-too-deep');
      }
    }
    const nested = (depth: number): unknown => (depth <= 1 ? [] : [nested(depth - 1)]);
    assert.equal(
      (await stack.call('POST', `/v1/workflows/${wf}/runs`, nested(max))).status,
      202,
      'the limit itself is accepted',
    );
    assert.equal((await stack.call('POST', hook, nested(max))).status, 202);
    assert.equal((await stack.call('POST', `/v1/workflows/${wf}/runs`, nested(max + 1))).body.code, 'JSON_TOO_DEEP');
  });

  it('random nesting, with brackets and escapes inside strings: refused exactly when deeper than the limit, never a 5xx', async () => {
    const max = stack.config.API_JSON_MAX_DEPTH;
    const noise = fc.string({ maxLength: 20 }).map((t) => JSON.stringify(`${t}[{\\"]}`));
    const shaped = fc
      .tuple(
        fc.integer({ min: 1, max: max * 3 }),
        fc.array(fc.boolean(), { minLength: max * 3, maxLength: max * 3 }),
        noise,
      )
      .map(([depth, kinds, leaf]) => {
        let text = leaf;
        for (let i = 0; i < depth; i++) text = kinds[i] ? `[${leaf},${text}]` : `{"k":${text},"s":${leaf}}`;
        return { depth, text };
      });
    await fc.assert(
      fc.asyncProperty(
        shaped,
        fc.constantFrom('/v1/workflows/validate', '/v1/workflows', '/v1/workflows/x/runs'),
        async ({ depth, text }, path) => {
          const res = await stack.call('POST', path, text);
          assert.ok(res.status < 500, `${path} answered ${res.status} at depth ${depth}`);
          assert.equal(res.body?.code === 'JSON_TOO_DEEP', depth > max, `depth ${depth} answered ${res.body?.code}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('huge strings (up to the body limit, full of brackets, quotes and escapes) are never a 5xx; past the limit, 413', async () => {
    const wf = (await stack.call('POST', '/v1/workflows', { name: 'huge', steps: [{ id: 'a', type: 'succeed' }] })).body
      .id;
    const hook = (await stack.call('POST', `/v1/workflows/${wf}/webhooks`, {})).body.url;
    const limit = stack.config.API_BODY_LIMIT_BYTES;
    const filler = (n: number) => '[{\\"\u00e9'.repeat(Math.ceil(n / 6)).slice(0, n);
    const bodies = [
      JSON.stringify({ s: filler(limit / 2) }),
      JSON.stringify({ name: filler(200_000), steps: [] }),
      JSON.stringify('x'.repeat(limit - 100)),
      `"${'\\u0041'.repeat(50_000)}"`,
    ];
    for (const [method, path] of await jsonRoutes(wf, hook)) {
      for (const body of bodies) {
        const res = await stack.call(method, path, body);
        assert.ok(res.status < 500, `${method} ${path} answered ${res.status} to a ${body.length}-character body`);
      }
    }
    assert.equal(
      (await stack.call('POST', `/v1/workflows/${wf}/runs`, bodies[0])).status,
      202,
      'brackets inside strings do not count as nesting',
    );
    const tooLarge = await stack.call('POST', hook, JSON.stringify('x'.repeat(limit + 10)));
    assert.equal(tooLarge.status, 413);
  });

  it('random definitions are refused with 400 problem+json listing problems, or accepted; never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(definition, async (def) => {
        const res = await stack.call('POST', '/v1/workflows/validate', def);
        assert.ok(res.status === 200 || res.status === 400, `validate answered ${res.status}`);
        if (res.status === 400)
          assert.ok(
            res.body.errors.length > 0 &&
              res.body.errors.every((e: { pointer: string }) => typeof e.pointer === 'string'),
          );
      }),
      { numRuns: 1000 },
    );
  });
});

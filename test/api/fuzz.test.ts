import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createApp } from '../../src/api/app.js';
import { registry } from '../../src/activities/registry.js';
import { languageOf } from '../../src/definitions/schema.js';
import { startStack, type Stack } from '../helpers/stack.js';

setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

/** Text PostgreSQL cannot store: a NUL character or a lone surrogate. */
const unstorable = fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfff');
/** Anything a client might send: JSON of any shape, with text PostgreSQL cannot store, truncated JSON, or bytes that are not JSON at all. */
const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .tuple(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }), fc.string(), unstorable)
    .map(([v, key, text]) => JSON.stringify({ ...v, [key]: text })),
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
    type: fc.oneof(fc.constantFrom(...languageOf(registry).stepTypes), fc.string()),
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

/**
 * Every table of the application's database, each as its row count and a checksum of its rows.
 * Not `reconciler_watermarks`: the worker's reconciler moves its watermark on its own clock; not
 * `audit_events`: a refused call is audited by design (test/api/audit.test.ts checks what it holds).
 */
async function tableSums(pool: Stack['pool']): Promise<Record<string, string>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT IN ('reconciler_watermarks', 'audit_events') ORDER BY 1`,
  );
  // A run's row changes as the run goes on (runs of earlier requests may still be running): of
  // runs, which rows exist is what a refused request must not change.
  const rowText = (name: string) => (name === 'runs' ? 't.id::text' : 't::text');
  const sums = tables.map(
    ({ name }) =>
      `SELECT '${name}' AS name, count(*) || ':' || md5(coalesce(string_agg(${rowText(name)}, '|' ORDER BY ${rowText(name)}), '')) AS sum FROM "${name}" t`,
  );
  const { rows } = await pool.query<{ name: string; sum: string }>(sums.join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.name, r.sum]));
}

describe('property: no input makes the API fail (real PostgreSQL and Temporal behind)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  /**
   * Every operation of the app's own OpenAPI document (so a new route is fuzzed as soon as it is
   * added), path and query parameters as `{x}`, plus the routes outside the document.
   */
  async function fuzzRoutes(): Promise<[string, string][]> {
    const doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> } = (
      await stack.call('GET', '/openapi.json')
    ).body;
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]): [string, string] => {
        const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => `${p.name}={x}`);
        return [
          method.toUpperCase(),
          `${path.replace(/\{[^}]+\}/g, '{x}')}${query.length ? `?${query.join('&')}` : ''}`,
        ];
      }),
    );
    assert.ok(routes.length >= 30, `the document lists ${routes.length} operations`);
    return [...routes, ['POST', '/hooks/{x}'], ['POST', '/codec/decode'], ['GET', '/{x}'], ['GET', '/ui/{x}']];
  }

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

  it('thousands of random and malformed bodies, headers and path values at every endpoint: never a 5xx, never a hang, no table changed by a 4xx, flat memory', async () => {
    const routes = await fuzzRoutes();
    const authed = createApp({
      ...stack.deps,
      config: {
        ...stack.deps.config,
        AUTH_MODE: 'hs256',
        AUTH_HS256_SECRET: 'fuzz-secret-that-is-long-enough-for-hs256',
      },
    });
    const property = fc.asyncProperty(
      fc.constantFrom(...routes),
      fc.array(segment, { minLength: 8, maxLength: 8 }),
      body,
      headers,
      fc.boolean(),
      async ([method, template], values, payload, hdrs, withAuth) => {
        let i = 0;
        const path = template.replace(/\{x\}/g, () => encodeURIComponent(values[i++] ?? ''));
        const tables = await tableSums(stack.pool);
        const status = await send(withAuth ? authed : stack.app, method, path, payload, hdrs);
        assert.ok(status < 500, `${method} ${path} answered ${status}`);
        if (status >= 400)
          assert.deepEqual(await tableSums(stack.pool), tables, `${method} ${path} answered ${status}`);
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

  it('text PostgreSQL cannot store (NUL, lone surrogates) is refused with 400 invalid-text and its pointer at every JSON route, and changes no table', async () => {
    const wf = (await stack.call('POST', '/v1/workflows', { name: 'text', steps: [{ id: 'a', type: 'succeed' }] })).body
      .id;
    const hook = (await stack.call('POST', `/v1/workflows/${wf}/webhooks`, {})).body.url;
    const cases: [unknown, string][] = [
      [{ name: 'a\u0000b', steps: [] }, '/name'],
      [{ name: 'x', input: { 'k\u0000': 1 } }, '/input/k\u0000'],
      [{ name: 'x', cron: '* * * * *', input: { list: ['ok', { 'a/b~': '\ud800' }] } }, '/input/list/1/a~1b~0'],
      [['\udc00'], '/0'],
      ['\u0000', ''],
    ];
    const tables = await tableSums(stack.pool);
    for (const [method, path] of await jsonRoutes(wf, hook)) {
      for (const [body, pointer] of cases) {
        const res = await stack.call(method, path, JSON.stringify(body));
        assert.equal(res.status, 400, `${method} ${path} answered ${res.status} to ${JSON.stringify(body)}`);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.equal(res.body.code, 'INVALID_TEXT');
        assert.equal(res.body.type, 'https://mini-zaps.dev/problems/invalid-text');
        assert.deepEqual(
          res.body.errors.map((e: { pointer: string }) => e.pointer),
          [pointer],
        );
      }
    }
    assert.deepEqual(await tableSums(stack.pool), tables, 'no table changed');
    // Escapes PostgreSQL stores are no problem: an accented letter, a surrogate pair.
    const fine = await stack.call('POST', `/v1/workflows/${wf}/runs`, JSON.stringify({ s: '\u00e9 \ud83d\ude00' }));
    assert.equal(fine.status, 202);
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

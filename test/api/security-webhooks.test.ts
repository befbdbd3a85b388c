import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startApi } from '../../src/api/server.js';
import { createApp } from '../../src/api/app.js';
import { sign } from '../../src/api/webhooks.js';
import { createWebhooksRepo } from '../../src/db/webhooks-repo.js';
import { parseKeyRing } from '../../src/shared/crypto.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

const ECHO = { name: 'hooked', steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger' } }] };

describe('webhook security (real Temporal, real PostgreSQL)', () => {
  let stack: Stack;
  const logLines: string[] = [];
  before(async () => {
    stack = await startStack({ logLines });
  });
  after(() => stack?.stop());

  const hookOf = async (workflowId: string, signed: boolean) => {
    const res = await stack.call('POST', `/v1/workflows/${workflowId}/webhooks`, { signed });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; token: string; url: string; signingSecret?: string };
  };
  const runsOf = async (workflowId: string) =>
    (await stack.call('GET', `/v1/runs?workflowId=${workflowId}`)).body.items as { id: string }[];
  /** POSTs to an app (the stack's, or another replica on the same database); the answer's body parsed. */
  const post = async (
    app: ReturnType<typeof createApp>,
    url: string,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await app.request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
  };

  it('a webhook token never appears in request logs, error logs, problem answers or metrics', async () => {
    const wf = await createWorkflow(stack, ECHO);
    const { token, url } = await hookOf(wf, false);
    logLines.length = 0;
    assert.equal((await stack.call('POST', url, { order: 1 })).status, 202);
    const notJson = await stack.call('POST', url, '{not json');
    assert.equal(notJson.status, 400);
    const wrongMethod = await stack.call('GET', url);
    assert.equal(wrongMethod.status, 404);
    assert.equal((await stack.call('POST', `/HOOKS/${token}`, {})).status, 404, 'a token sent to a mistyped path');

    const requestLines = logLines.filter((l) => l.includes('"msg":"request"'));
    assert.ok(requestLines.length >= 4, 'every request was logged');
    assert.ok(
      requestLines.some((l) => l.includes('"path":"/hooks/:token"')),
      'hook requests are logged with the token masked',
    );
    for (const line of logLines) assert.ok(!line.includes(token), `a log line holds the token: ${line}`);
    for (const answer of [notJson.body, wrongMethod.body])
      assert.ok(!JSON.stringify(answer).includes(token), `an answer holds the token: ${JSON.stringify(answer)}`);
    const metrics = await stack.app.request('/metrics');
    assert.ok(!(await metrics.text()).includes(token), 'metrics labels hold no token');
  });

  it('a signed webhook whose signing secret cannot be unsealed answers 503 problem+json and starts no run', async () => {
    const wf = await createWorkflow(stack, ECHO);
    const signed = await hookOf(wf, true);
    const unsigned = await hookOf(wf, false);
    const body = JSON.stringify({ order: 2 });
    // The same database, served by an API without SECRETS_KEYS, and by one with other keys.
    const keyless = createApp({ ...stack.deps, webhooks: createWebhooksRepo(stack.pool, undefined) });
    const otherKeys = createApp({
      ...stack.deps,
      webhooks: createWebhooksRepo(stack.pool, parseKeyRing(`other:${Buffer.alloc(32, 3).toString('base64')}`)),
    });
    const attempts: Record<string, string>[] = [{}, { 'x-signature': sign('whsec_guess', body) }];
    for (const app of [keyless, otherKeys]) {
      for (const headers of attempts) {
        const res = await post(app, signed.url, body, headers);
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.equal(res.body.code, 'SIGNING_SECRET_UNAVAILABLE');
      }
    }
    assert.deepEqual(await runsOf(wf), [], 'no run was started');
    assert.equal((await post(keyless, unsigned.url, body)).status, 202, 'unsigned hooks need no keys');
  });

  it('a signed request replayed within the window gives the same run, on any API replica, never a second run', async () => {
    const wf = await createWorkflow(stack, ECHO);
    const { url, signingSecret } = await hookOf(wf, true);
    const body = JSON.stringify({ order: 3 });
    const signature = sign(signingSecret ?? '', body);
    const replica = createApp(stack.deps);
    const first = await post(stack.app, url, body, { 'x-signature': signature });
    assert.equal(first.status, 202);
    const { runId } = first.body;
    for (const app of [stack.app, replica]) {
      const again = await post(app, url, body, { 'x-signature': signature });
      assert.equal(again.status, 202);
      assert.equal(again.body.runId, runId);
    }
    const upper = signature.replace(/v1=(.*)$/, (_, hex: string) => `v1=${hex.toUpperCase()}`);
    assert.equal(
      (await post(replica, url, body, { 'x-signature': upper })).body.runId,
      runId,
      'a re-cased signature is the same signature',
    );
    assert.deepEqual(
      (await runsOf(wf)).map((r) => r.id),
      [runId],
      'one run',
    );
  });

  it('a replayed signed request dressed with another event id is refused with 409 and starts no run', async () => {
    const wf = await createWorkflow(stack, ECHO);
    const { url, signingSecret } = await hookOf(wf, true);
    const body = JSON.stringify({ order: 4 });
    const signature = sign(signingSecret ?? '', body);
    assert.equal((await post(stack.app, url, body, { 'x-signature': signature, 'webhook-id': 'evt_1' })).status, 202);
    const dressed: Record<string, string>[] = [
      { 'webhook-id': 'evt_2' },
      { 'x-event-id': 'evt_3' },
      { 'idempotency-key': 'k' },
      {},
    ];
    for (const headers of dressed) {
      const res = await post(createApp(stack.deps), url, body, { 'x-signature': signature, ...headers });
      assert.equal(res.status, 409, JSON.stringify(headers));
      assert.equal(res.body.code, 'WEBHOOK_REPLAYED');
    }
    assert.equal((await runsOf(wf)).length, 1);
  });

  it('a repeated event id gives the same run, even re-signed later or sent to an unsigned hook', async () => {
    const wf = await createWorkflow(stack, ECHO);
    const { url, signingSecret } = await hookOf(wf, true);
    const body = JSON.stringify({ order: 5 });
    const now = Math.floor(Date.now() / 1000);
    const ids = [];
    for (const t of [now - 2, now - 1, now]) {
      const res = await post(stack.app, url, body, {
        'x-signature': sign(signingSecret ?? '', body, t),
        'webhook-id': 'evt_42',
      });
      assert.equal(res.status, 202);
      ids.push(res.body.runId);
    }
    assert.equal(new Set(ids).size, 1, 'each re-signed delivery of the event gave the same run');
    const other = await post(stack.app, url, body, {
      'x-signature': sign(signingSecret ?? '', body, now - 3),
      'webhook-id': 'evt_43',
    });
    assert.notEqual(other.body.runId, ids[0], 'another event is another run');

    const unsigned = await hookOf(wf, false);
    const a = (await post(stack.app, unsigned.url, body, { 'x-event-id': 'evt_7' })).body;
    const b = (await post(stack.app, unsigned.url, body, { 'x-event-id': 'evt_7' })).body;
    assert.equal(a.runId, b.runId);
    assert.equal((await runsOf(wf)).length, 3);
  });

  it('seen signatures are kept only for their window: each delivery clears expired records, so the table stays bounded', async () => {
    const wf = await createWorkflow(stack, ECHO);
    const { id, url, signingSecret } = await hookOf(wf, true);
    await stack.pool.query(
      `INSERT INTO webhook_deliveries (hook_id, signature, idempotency_key, expires_at)
       SELECT $1, 'old' || g, 'k', now() - interval '1 minute' FROM generate_series(1, 50) g`,
      [id],
    );
    const body = JSON.stringify({ order: 6 });
    assert.equal((await post(stack.app, url, body, { 'x-signature': sign(signingSecret ?? '', body) })).status, 202);
    const { rows } = await stack.pool.query<{ n: string; expired: string }>(
      'SELECT count(*) AS n, count(*) FILTER (WHERE expires_at < now()) AS expired FROM webhook_deliveries WHERE hook_id = $1',
      [id],
    );
    assert.deepEqual(rows[0], { n: '1', expired: '0' });
  });

  describe('over a real socket: bodies are read within API_BODY_TIMEOUT_MS', () => {
    let api: Awaited<ReturnType<typeof startApi>>;
    before(async () => {
      api = await startApi({
        ...stack.deps,
        config: { ...stack.deps.config, API_HOST: '127.0.0.1', API_PORT: 0, API_BODY_TIMEOUT_MS: 500 },
      });
    });
    after(() => api?.stop());

    /** Sends `head` and `bodyStart`, then nothing more: the answer and whether the server closed the socket. */
    const stalled = async (head: string, bodyStart = '') => {
      const { port } = new URL(api.url);
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => void (text += chunk.toString()));
      socket.write(`${head}\r\nHost: x\r\nContent-Type: application/json\r\n\r\n${bodyStart}`);
      const closed = await Promise.race([
        once(socket, 'close').then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 15_000)),
      ]);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      return { status, closed, text, code: /"code":"([A-Z_]+)"/.exec(body)?.[1] };
    };

    it('a body that stalls is answered 408 problem+json and its socket closed, on an API route and on a webhook', async () => {
      const route = await stalled('POST /v1/workflows HTTP/1.1\r\nContent-Length: 100', '{"name":');
      assert.deepEqual([route.status, route.code, route.closed], [408, 'BODY_TIMEOUT', true], route.text);
      assert.match(route.text, /content-type: application\/problem\+json/i);
      const id = await createWorkflow(stack, ECHO);
      const hook = await hookOf(id, false);
      const hooked = await stalled(`POST ${hook.url} HTTP/1.1\r\nContent-Length: 100`, '{"a":');
      assert.deepEqual([hooked.status, hooked.code, hooked.closed], [408, 'BODY_TIMEOUT', true], hooked.text);
      assert.deepEqual(await runsOf(id), []);
    });

    it('an unknown webhook path is answered 404 without waiting for its body', async () => {
      const unknown = await stalled('POST /hooks/not-a-token HTTP/1.1\r\nContent-Length: 1000000');
      assert.equal(unknown.status, 404, unknown.text);
      assert.notEqual(unknown.code, 'BODY_TIMEOUT');
      assert.equal(unknown.closed, true);
    });
  });
});

describe('run index across tenants (real Temporal, real PostgreSQL)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  it("a run record carrying another tenant never overwrites this tenant's run in the index", async () => {
    const wf = await createWorkflow(stack, ECHO);
    const runId = await trigger(stack, wf, { order: 8 });
    const run = await waitForEnd(stack, runId);
    assert.equal(run.status, 'completed');
    await stack.deps.runs.record({
      runId,
      tenantId: 'intruder',
      workflowId: wf,
      version: 1,
      status: 'failed',
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      steps: [],
      result: { stolen: true },
      error: { code: 'X', message: 'overwritten' },
      seq: 2 ** 31 - 1,
      // Newer than anything the run wrote, so only the tenant check can keep it out.
      recordAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const { rows } = await stack.pool.query<{ tenant_id: string; status: string; result: unknown; error: unknown }>(
      'SELECT tenant_id, status, result, error FROM runs WHERE id = $1',
      [runId],
    );
    assert.deepEqual(
      rows[0],
      { tenant_id: 'default', status: 'completed', result: { order: 8 }, error: null },
      'the index row is untouched',
    );
    const listed = (await stack.call('GET', `/v1/runs?workflowId=${wf}`)).body.items;
    assert.deepEqual(
      listed.map((r: { id: string }) => r.id),
      [runId],
      'the owner still lists it',
    );
  });
});

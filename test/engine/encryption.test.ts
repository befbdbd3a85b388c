import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { mintToken } from '../../src/shared/tokens.js';
import { leaksIn } from '../helpers/history.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

const MARKER = 'plaintext-marker-7f3a9c';
const AUTH_SECRET = 'encryption-test-secret-that-is-long-enough';
const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
const utf8b64 = (text: string) => Buffer.from(text).toString('base64');

describe('encrypted payloads (real Temporal, real PostgreSQL)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { ENCRYPT_PAYLOADS: 'true' } });
  });
  after(() => stack?.stop());

  it('history holds only ciphertext, and the codec endpoint decodes it for an operator', async () => {
    const id = await createWorkflow(stack, {
      name: 'encrypted',
      steps: [{ id: 'echo', type: 'transform', config: { expression: '{ "seen": trigger.marker }' } }],
    });
    const runId = await trigger(stack, id, { marker: MARKER });
    const run = await waitForEnd(stack, runId);
    assert.deepEqual(run.result, { seen: MARKER }, 'the run itself works on plain values');

    const history = await stack.rawClient.workflow.getHandle(runId).fetchHistory();
    assert.deepEqual(leaksIn(history, MARKER), [], 'no plaintext in history');
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(Buffer.from(input?.metadata?.encoding ?? []).toString(), 'binary/encrypted');
    assert.deepEqual(
      await stack.client.workflow.getHandle(runId).result(),
      { output: { seen: MARKER } },
      'a client with the codec reads the result',
    );

    assert.equal(
      Buffer.from(input?.metadata?.['encryption-key-id'] ?? []).toString(),
      'payload',
      'payloads are sealed with PAYLOAD_KEYS',
    );
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(input?.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
          data: b64(input?.data),
        },
      ],
    };
    const decoded = await stack.call('POST', '/codec/decode', body, { 'x-namespace': 'default' });
    assert.equal(decoded.status, 200);
    const plain = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString());
    assert.equal(plain.trigger.marker, MARKER);
    const encoded = await stack.call('POST', '/codec/encode', decoded.body);
    assert.equal(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString(), 'binary/encrypted');
    assert.equal((await stack.call('POST', '/codec/decode', { payloads: 'nope' })).status, 400);
  });

  it('answers the Web UI’s CORS preflight for its origin', async () => {
    const res = await stack.app.request('/codec/decode', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:8233',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  });

  /** The same API on the same stack, with bearer tokens checked. */
  const withAuth = () =>
    createApp({ ...stack.deps, config: { ...stack.deps.config, AUTH_MODE: 'hs256', AUTH_HS256_SECRET: AUTH_SECRET } });
  const bearer = async (tenant: string, scopes: string[]) => ({
    authorization: `Bearer ${await mintToken(AUTH_SECRET, { tenant, scopes, ttl: '1h' })}`,
  });

  it("the codec serves only an operator credential: no tenant's admin token decrypts payloads", async () => {
    const runId = await trigger(
      stack,
      await createWorkflow(stack, { name: 'op', steps: [{ id: 'a', type: 'succeed' }] }),
      { marker: MARKER },
    );
    const history = await stack.rawClient.workflow.getHandle(runId).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(input?.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
          data: b64(input?.data),
        },
      ],
    });
    const app = withAuth();
    const post = async (headers: Record<string, string>) =>
      app.request('/codec/decode', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });

    for (const scopes of [['admin'], ['admin', 'runs:read', 'secrets:write']]) {
      const res = await post(await bearer('acme', scopes));
      assert.equal(res.status, 403, `a tenant token with ${scopes.join(' ')} is refused`);
      assert.equal(JSON.parse(await res.text()).code, 'FORBIDDEN');
    }
    assert.equal((await post({})).status, 401, 'no token');
    const ok = await post(await bearer('ops', ['operator']));
    assert.equal(ok.status, 200);
    const { payloads } = JSON.parse(await ok.text());
    assert.equal(JSON.parse(Buffer.from(payloads[0].data, 'base64').toString()).trigger.marker, MARKER);
  });

  it('the codec opens only payloads: a stored secret sealed with SECRETS_KEYS cannot be decrypted through it', async () => {
    assert.equal((await stack.call('PUT', '/v1/secrets/crm_token', { value: 'secret-value-9d2e' })).status, 200);
    const { rows } = await stack.pool.query<{ sealed: string }>("SELECT sealed FROM secrets WHERE name = 'crm_token'");
    const sealed = rows[0]?.sealed ?? '';
    const res = await stack.call('POST', '/codec/decode', {
      payloads: [{ metadata: { encoding: utf8b64('binary/encrypted') }, data: utf8b64(sealed) }],
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(res.body.code, 'INVALID_CIPHERTEXT');
    assert.ok(!JSON.stringify(res.body).includes('secret-value-9d2e'));
  });

  it('malformed ciphertext answers 400 problem+json, never 500', async () => {
    const encrypted = { encoding: utf8b64('binary/encrypted') };
    for (const data of [
      '',
      'not.a.sealed.value',
      'payload.AAAA.BBBB.CCCC',
      'nokey.AAAA.BBBB.CCCC',
      utf8b64('x'.repeat(300)),
      '%%%',
    ]) {
      const res = await stack.call('POST', '/codec/decode', {
        payloads: [{ metadata: encrypted, data: utf8b64(data) }],
      });
      assert.ok(
        res.status === 400 || (data === '' && res.status === 200),
        `${JSON.stringify(data)} answered ${res.status}`,
      );
      if (res.status === 400) assert.equal(res.body.code, 'INVALID_CIPHERTEXT');
    }
  });

  it('the codec resolves claim-checked payloads for the Web UI: a large input is a reference in history and plain JSON through /codec', async () => {
    const id = await createWorkflow(stack, {
      name: 'large input',
      steps: [{ id: 'size', type: 'transform', config: { expression: '$length(trigger.blob)' } }],
    });
    const runId = await trigger(stack, id, { marker: MARKER, blob: 'b'.repeat(100_000) });
    assert.equal((await waitForEnd(stack, runId)).result, 100_000);
    const history = await stack.rawClient.workflow.getHandle(runId).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(Buffer.from(input?.metadata?.encoding ?? []).toString(), 'binary/claim-check');
    assert.ok((input?.data?.length ?? 0) < 200, 'history holds a reference');
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(input?.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
          data: b64(input?.data),
        },
      ],
    };
    const decoded = await stack.call('POST', '/codec/decode', body);
    assert.equal(decoded.status, 200, JSON.stringify(decoded.body));
    assert.equal(JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString()).trigger.marker, MARKER);
  });

  it('without payload encryption the codec only resolves references: it encrypts nothing (404)', async () => {
    const plain = createApp({ ...stack.deps, payloadRing: undefined });
    const post = (path: string) =>
      plain.request(path, {
        method: 'POST',
        body: JSON.stringify({ payloads: [{ metadata: { encoding: utf8b64('json/plain') }, data: utf8b64('1') }] }),
        headers: { 'content-type': 'application/json' },
      });
    const encoded = await post('/codec/encode');
    assert.equal(encoded.status, 404);
    assert.equal(JSON.parse(await encoded.text()).code, 'ROUTE_NOT_FOUND');
    const decoded = await post('/codec/decode');
    assert.equal(decoded.status, 200);
    assert.equal(Buffer.from(JSON.parse(await decoded.text()).payloads[0].data, 'base64').toString(), '1');
  });
});

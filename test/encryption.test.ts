import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWorkflow, trigger, waitForEnd } from './helpers/runs.js';
import { startStack, type Stack } from './helpers/stack.js';

const MARKER = 'plaintext-marker-7f3a9c';

describe('encrypted payloads (real Temporal, real PostgreSQL)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { ENCRYPT_PAYLOADS: 'true' } });
  });
  after(() => stack?.stop());

  it('history holds only ciphertext, and the codec endpoint decodes it for an operator', async () => {
    const id = await createWorkflow(stack, { name: 'encrypted', steps: [{ id: 'echo', type: 'transform', config: { expression: '{ "seen": trigger.marker }' } }] });
    const runId = await trigger(stack, id, { marker: MARKER });
    const run = await waitForEnd(stack, runId);
    assert.deepEqual(run.result, { seen: MARKER }, 'the run itself works on plain values');

    const history = await stack.rawClient.workflow.getHandle(runId).fetchHistory();
    assert.ok(!JSON.stringify(history).includes(MARKER), 'no plaintext in history');
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(Buffer.from(input?.metadata?.encoding ?? []).toString(), 'binary/encrypted');
    assert.deepEqual(await stack.client.workflow.getHandle(runId).result(), { output: { seen: MARKER } }, 'a client with the codec reads the result');

    const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
    const body = { payloads: [{ metadata: Object.fromEntries(Object.entries(input?.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(input?.data) }] };
    const decoded = await stack.call('POST', '/codec/decode', body, { 'x-namespace': 'default' });
    assert.equal(decoded.status, 200);
    const plain = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString());
    assert.equal(plain.trigger.marker, MARKER);
    const encoded = await stack.call('POST', '/codec/encode', decoded.body);
    assert.equal(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString(), 'binary/encrypted');
    assert.equal((await stack.call('POST', '/codec/decode', { payloads: 'nope' })).status, 400);
  });

  it('answers the Web UI’s CORS preflight for its origin', async () => {
    const res = await stack.app.request('/codec/decode', { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.js';
import { secretPlaceholder } from '../../definitions/expressions/secret-placeholders.js';
import type { ConnectorInput, ConnectorResult } from '../connector.js';
import { retryAfter } from './activity.js';
import { createHttpActivity } from './definition.js';

const http = createHttpActivity({ allowlist: '127.0.0.1' });
const guarded = createHttpActivity({ allowlist: '' });
const input = (config: unknown) => ({
  config,
  runId: 'run-1',
  workflowId: 'wf-1',
  tenantId: 't',
  stepId: 'call',
  idempotencyKey: 'run-1:call',
});
const quiet = new DefaultLogger('ERROR', () => undefined);
const run = (config: unknown, attempt = 1) =>
  new MockActivityEnvironment({ attempt, startToCloseTimeoutMs: 2_000 }, { logger: quiet }).run<
    [ConnectorInput],
    ConnectorResult,
    typeof http
  >(http, input(config));

async function failure(config: unknown): Promise<ApplicationFailure> {
  try {
    await run(config);
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the step to fail');
}

describe('the http connector', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  it('sends method, query, headers, a JSON body and the idempotency key; parses a JSON answer', async () => {
    receiver.on('/echo', (req) => ({
      status: 201,
      body: { got: JSON.parse(req.body) },
      headers: { 'x-reply': 'yes' },
    }));
    const result = await run(
      {
        method: 'POST',
        url: `${receiver.url}/echo`,
        query: { a: 1, b: 'x y' },
        headers: { 'x-custom': 'v' },
        body: { hello: 'world' },
      },
      2,
    );
    const output = result.output as { status: number; headers: Record<string, string>; body: unknown };
    assert.equal(output.status, 201);
    assert.deepEqual(output.body, { got: { hello: 'world' } });
    assert.equal(output.headers['x-reply'], 'yes');
    assert.equal(result.attempt, 2);
    const req = receiver.requestsTo('/echo')[0];
    assert.equal(req?.headers['idempotency-key'], 'run-1:call');
    assert.equal(req?.headers['x-custom'], 'v');
    assert.equal(req?.headers['content-type'], 'application/json');
  });

  it('sends a string body as text and keeps a non-JSON answer as text', async () => {
    receiver.on('/text', (req) => ({ status: 200, body: req.body }));
    const result = await run({ method: 'PUT', url: `${receiver.url}/text`, body: 'plain words' });
    assert.equal(receiver.requestsTo('/text')[0]?.headers['content-type'], 'text/plain; charset=utf-8');
    assert.deepEqual((result.output as { body: unknown }).body, 'plain words');
  });

  it('a 5xx is a retryable HTTP_<status> failure', async () => {
    receiver.on('/down', () => ({ status: 503, body: { error: 'maintenance' } }));
    const err = await failure({ url: `${receiver.url}/down` });
    assert.equal(err.type, 'HTTP_503');
    assert.equal(err.nonRetryable, false);
  });

  it('408 and 429 are retryable; 429 with Retry-After sets the next retry delay', async () => {
    receiver.on('/slow-down', () => ({ status: 429, headers: { 'retry-after': '7' } }));
    const err = await failure({ url: `${receiver.url}/slow-down` });
    assert.equal(err.type, 'HTTP_429');
    assert.equal(err.nonRetryable, false);
    assert.equal(err.nextRetryDelay, 7000);
    receiver.on('/timeout', () => ({ status: 408 }));
    assert.equal((await failure({ url: `${receiver.url}/timeout` })).nonRetryable, false);
  });

  it('other 4xx are not retryable', async () => {
    receiver.on('/nope', () => ({ status: 422, body: { error: 'bad' } }));
    const err = await failure({ url: `${receiver.url}/nope` });
    assert.equal(err.type, 'HTTP_422');
    assert.equal(err.nonRetryable, true);
  });

  it('expectStatus decides what counts as success', async () => {
    receiver.on('/gone', () => ({ status: 404 }));
    const ok = await run({ url: `${receiver.url}/gone`, expectStatus: [404] });
    assert.equal((ok.output as { status: number }).status, 404);
    receiver.on('/fine', () => ({ status: 200 }));
    assert.equal((await failure({ url: `${receiver.url}/fine`, expectStatus: [204] })).type, 'HTTP_200');
  });

  it('a refused connection is a retryable network error', async () => {
    const err = await failure({ url: 'http://127.0.0.1:1/' });
    assert.equal(err.type, 'HTTP_NETWORK_ERROR');
    assert.equal(err.nonRetryable, false);
  });

  it('a config that is invalid after evaluation fails at once with INVALID_CONFIG', async () => {
    const err = await failure({ url: 'not a url' });
    assert.equal(err.type, 'INVALID_CONFIG');
    assert.equal(err.nonRetryable, true);
  });

  it('refuses private, loopback, link-local and metadata addresses, and names resolving to them, unless allow-listed', async () => {
    const port = new URL(receiver.url).port;
    const runGuarded = (url: string, activity = guarded) =>
      new MockActivityEnvironment({ startToCloseTimeoutMs: 2_000 }, { logger: quiet }).run<
        [ConnectorInput],
        ConnectorResult,
        typeof activity
      >(activity, input({ url }));
    for (const url of [
      `http://127.0.0.1:${port}/x`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      `http://localhost:${port}/x`,
      'http://[::1]/',
      `http://[::ffff:127.0.0.1]:${port}/`,
    ]) {
      await assert.rejects(
        runGuarded(url),
        (err: unknown) =>
          err instanceof ApplicationFailure && err.type === 'HTTP_BLOCKED_ADDRESS' && err.nonRetryable === true,
        url,
      );
    }
    assert.equal(receiver.requestsTo('/x').length, 0, 'nothing was sent');
    receiver.on('/allowed', () => ({ status: 200 }));
    const byName = createHttpActivity({ allowlist: 'localhost' });
    assert.equal(
      ((await runGuarded(`http://localhost:${port}/allowed`, byName)).output as { status: number }).status,
      200,
    );
    const byCidr = createHttpActivity({ allowlist: '127.0.0.0/8' });
    assert.equal(
      ((await runGuarded(`http://127.0.0.1:${port}/allowed`, byCidr)).output as { status: number }).status,
      200,
    );
  });

  it('follows at most 5 redirects, each checked by the guard', async () => {
    // A chain of `length` redirects: /<name>/<length> -> ... -> /<name>/1 -> /<name>/0, which answers 200.
    const chain = (name: string, length: number) => {
      for (let k = length; k > 0; k--)
        receiver.on(`/${name}/${k}`, () => ({ status: 302, headers: { location: `/${name}/${k - 1}` } }));
      receiver.on(`/${name}/0`, () => ({ status: 200, body: { landed: name } }));
    };
    // Requests that reached each link of the chain, from its start to its landing.
    const hops = (name: string, length: number) =>
      Array.from({ length: length + 1 }, (_, i) => receiver.requestsTo(`/${name}/${length - i}`).length);
    chain('five', 5);
    assert.deepEqual(((await run({ url: `${receiver.url}/five/5` })).output as { body: unknown }).body, {
      landed: 'five',
    });
    assert.deepEqual(hops('five', 5), [1, 1, 1, 1, 1, 1], 'five redirects followed, then the landing answered');
    chain('six', 6);
    assert.equal((await failure({ url: `${receiver.url}/six/6` })).type, 'HTTP_TOO_MANY_REDIRECTS');
    assert.deepEqual(
      hops('six', 6),
      [1, 1, 1, 1, 1, 1, 0],
      'six requests: the sixth redirect was refused, its target never asked',
    );
    receiver.on('/to-metadata', () => ({
      status: 307,
      headers: { location: 'http://169.254.169.254/latest/meta-data/' },
    }));
    assert.equal((await failure({ url: `${receiver.url}/to-metadata` })).type, 'HTTP_BLOCKED_ADDRESS');
    receiver.on('/moved', () => ({ status: 301, headers: { location: '/landing' } }));
    receiver.on('/landing', () => ({ status: 200, body: { landed: true } }));
    assert.deepEqual(((await run({ url: `${receiver.url}/moved` })).output as { body: unknown }).body, {
      landed: true,
    });
  });

  it('a revealed secret echoed back encoded is redacted from the output, and is not forwarded on a cross-origin redirect', async () => {
    const token = 'tok_Live/42+xyz';
    const withSecrets = createHttpActivity({
      allowlist: '127.0.0.1',
      secrets: { reveal: (_tenant, name) => Promise.resolve(name === 'crm' ? token : '') },
    });
    const other = await startReceiver();
    try {
      receiver.on('/echo-secret', (req) => ({
        status: 200,
        body: {
          upper: String(req.headers['x-key']).toUpperCase(),
          b64: Buffer.from(String(req.headers['x-key'])).toString('base64url'),
          pct: encodeURIComponent(String(req.headers['x-key'])),
        },
      }));
      const config = (url: string) => ({ url, headers: { 'x-key': secretPlaceholder('crm', 'ab12') } });
      const runWith = (url: string) =>
        new MockActivityEnvironment({ startToCloseTimeoutMs: 2_000 }, { logger: quiet }).run<
          [ConnectorInput],
          ConnectorResult,
          typeof withSecrets
        >(withSecrets, { ...input(config(url)), secretNonce: 'ab12' });
      const echoed = await runWith(`${receiver.url}/echo-secret`);
      assert.deepEqual((echoed.output as { body: unknown }).body, {
        upper: '[redacted]',
        b64: '[redacted]',
        pct: '[redacted]',
      });
      receiver.on('/elsewhere', () => ({ status: 302, headers: { location: `${other.url}/landed` } }));
      other.accept('/landed');
      await runWith(`${receiver.url}/elsewhere`);
      assert.equal(receiver.requestsTo('/elsewhere')[0]?.headers['x-key'], token);
      assert.equal(other.requestsTo('/landed')[0]?.headers['x-key'], undefined);
    } finally {
      await other.close();
    }
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfter('3'), 3000);
    assert.equal(retryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(retryAfter('soon'), undefined);
    assert.equal(retryAfter(null), undefined);
  });
});

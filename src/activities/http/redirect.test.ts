import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Headers } from 'undici';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.js';
import { AppError } from '../../shared/errors.js';
import { toFailure } from '../connector-attempt.js';
import { createHttpExecute } from './activity.js';
import { nextHop } from './redirect.js';
import { HttpConfigSchema } from './schema.js';

const SECRET = 'sk_live_Zx81/secret+value';
const execute = createHttpExecute('127.0.0.1');
const ctx = (secrets: string[] = [SECRET]) => ({
  input: {
    config: {},
    runId: 'run-1',
    workflowId: 'wf-1',
    tenantId: 't',
    stepId: 'call',
    idempotencyKey: 'run-1:call',
  },
  signal: AbortSignal.timeout(60_000),
  attempt: 1,
  secrets,
});
const call = (config: unknown, secrets?: string[]) => execute(HttpConfigSchema.parse(config), ctx(secrets));

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the step to fail');
}

const credentialHeaders = {
  authorization: `Bearer ${SECRET}`,
  cookie: 'session=abc',
  'proxy-authorization': 'Basic cHJveHk6cHc=',
  'x-api-key': SECRET,
  'x-signature': Buffer.from(`v1:${SECRET}`).toString('base64'),
  'x-trace': 'keep-me',
};

describe('http redirects between two origins (two local receivers on different ports)', () => {
  let first: Receiver;
  let second: Receiver;
  before(async () => {
    first = await startReceiver();
    second = await startReceiver();
  });
  after(async () => {
    await first.close();
    await second.close();
  });

  it('a redirect to another origin arrives without Authorization, Cookie, Proxy-Authorization or any header holding a secret', async () => {
    first.on('/away', () => ({ status: 302, headers: { location: `${second.url}/landing` } }));
    second.on('/landing', () => ({ status: 200, body: { landed: true } }));
    const output = await call({ url: `${first.url}/away`, headers: credentialHeaders });
    assert.deepEqual(output.body, { landed: true });
    assert.equal(
      first.requestsTo('/away')[0]?.headers.authorization,
      `Bearer ${SECRET}`,
      'the first origin got the credentials',
    );
    const arrived = second.requestsTo('/landing')[0]?.headers;
    assert.ok(arrived);
    for (const name of ['authorization', 'cookie', 'proxy-authorization', 'x-api-key', 'x-signature'])
      assert.equal(arrived[name], undefined, name);
    assert.equal(arrived['x-trace'], 'keep-me');
    assert.equal(arrived['idempotency-key'], 'run-1:call');
  });

  it('a redirect within the same origin keeps the credentials', async () => {
    first.on('/here', () => ({ status: 301, headers: { location: '/same' } }));
    first.on('/same', () => ({ status: 200 }));
    await call({ url: `${first.url}/here`, headers: credentialHeaders });
    const arrived = first.requestsTo('/same')[0]?.headers;
    assert.equal(arrived?.authorization, `Bearer ${SECRET}`);
    assert.equal(arrived?.['x-api-key'], SECRET);
  });

  it('credentials stripped on the way out stay stripped when a later hop comes back to the first origin', async () => {
    first.on('/out', () => ({ status: 302, headers: { location: `${second.url}/bounce` } }));
    second.on('/bounce', () => ({ status: 302, headers: { location: `${first.url}/back` } }));
    first.on('/back', () => ({ status: 200 }));
    await call({ url: `${first.url}/out`, headers: credentialHeaders });
    assert.equal(first.requestsTo('/back')[0]?.headers.authorization, undefined);
  });

  it('a cross-origin 307 or 308 that would re-send a body holding a secret fails, non-retryable, and sends nothing there', async () => {
    for (const status of [307, 308]) {
      first.on(`/post-${status}`, () => ({ status, headers: { location: `${second.url}/steal-${status}` } }));
      const err = await rejection(
        call({ method: 'POST', url: `${first.url}/post-${status}`, body: { token: SECRET } }),
      );
      assert.equal(err.code, 'HTTP_REDIRECT_CREDENTIALS');
      assert.equal(err.retryable, false);
      assert.equal(second.requestsTo(`/steal-${status}`).length, 0);
    }
  });

  it('a cross-origin 307 re-sends a body without secrets, and a 302 after POST arrives as a GET without body', async () => {
    first.on('/plain-307', () => ({ status: 307, headers: { location: `${second.url}/plain` } }));
    second.on('/plain', (req) => ({ status: 200, body: { method: req.method, body: req.body } }));
    assert.deepEqual((await call({ method: 'POST', url: `${first.url}/plain-307`, body: { hello: 'world' } })).body, {
      method: 'POST',
      body: '{"hello":"world"}',
    });
    first.on('/secret-302', () => ({ status: 302, headers: { location: `${second.url}/plain` } }));
    assert.deepEqual((await call({ method: 'POST', url: `${first.url}/secret-302`, body: { token: SECRET } })).body, {
      method: 'GET',
      body: '',
    });
    assert.equal(second.requestsTo('/plain').at(-1)?.headers['content-type'], undefined);
  });

  it('each hop still passes the SSRF guard, and a redirect to a non-http URL fails non-retryable', async () => {
    const strict = createHttpExecute(`127.0.0.1:${new URL(first.url).port}`);
    first.on('/to-second', () => ({ status: 302, headers: { location: `${second.url}/landing` } }));
    const err = await rejection(strict(HttpConfigSchema.parse({ url: `${first.url}/to-second` }), ctx()));
    assert.equal(err.code, 'HTTP_BLOCKED_ADDRESS');
    first.on('/to-file', () => ({ status: 302, headers: { location: 'file:///etc/passwd' } }));
    const bad = await rejection(call({ url: `${first.url}/to-file` }));
    assert.equal(bad.code, 'HTTP_BAD_REDIRECT');
    assert.equal(bad.retryable, false);
  });
});

describe('redirect rules', () => {
  const hop = (url: string) => ({
    url: new URL(url),
    method: 'GET',
    headers: new Headers({ authorization: 'Bearer x' }),
    body: undefined,
  });

  it('refuses an https to http downgrade with a non-retryable HTTP_INSECURE_REDIRECT, same host or not', () => {
    for (const location of ['http://api.example.com/next', 'http://elsewhere.example/']) {
      assert.throws(
        () => nextHop(hop('https://api.example.com/start'), 302, location, []),
        (err: unknown) => err instanceof AppError && err.code === 'HTTP_INSECURE_REDIRECT' && !err.retryable,
      );
    }
    assert.equal(
      nextHop(hop('http://api.example.com/'), 302, 'https://api.example.com/secure', []).url.protocol,
      'https:',
    );
  });

  it('treats another port or scheme on the same host as another origin', () => {
    assert.equal(
      nextHop(hop('http://api.example.com/'), 302, 'http://api.example.com:8080/', []).headers.has('authorization'),
      false,
    );
    assert.equal(
      nextHop(hop('http://api.example.com/'), 302, 'https://api.example.com/', []).headers.has('authorization'),
      false,
    );
    assert.equal(nextHop(hop('http://api.example.com/'), 302, '/relative', []).headers.has('authorization'), true);
  });
});

describe('secrets in URLs stay out of error text', () => {
  it('a DNS failure for a host made from a secret names neither the host nor the secret', async () => {
    const secret = 'TenantSecretHost42';
    const err = await rejection(
      createHttpExecute('')(
        HttpConfigSchema.parse({ url: `http://${secret}.invalid/path?k=${secret}` }),
        ctx([secret]),
      ),
    );
    assert.equal(err.code, 'HTTP_NETWORK_ERROR');
    assert.doesNotMatch(err.message, new RegExp(secret, 'i'));
    assert.match(err.message, /http:\/\/\[redacted\]/);
    const failure = toFailure(err, 1, [secret]);
    assert.doesNotMatch(`${failure.message} ${JSON.stringify(failure.details)}`, new RegExp(secret, 'i'));
  });

  it('a secret in the path or query hides the URL in a status error', async () => {
    const receiver = await startReceiver();
    try {
      receiver.on(`/hook/${encodeURIComponent(SECRET)}`, () => ({ status: 404 }));
      const err = await rejection(call({ url: `${receiver.url}/hook/${encodeURIComponent(SECRET)}` }));
      assert.equal(err.code, 'HTTP_404');
      assert.doesNotMatch(err.message, /sk_live/i);
      assert.match(err.message, /^GET http:\/\/\[redacted\] answered 404$/);
    } finally {
      await receiver.close();
    }
  });
});

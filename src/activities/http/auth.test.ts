import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { connectorRunner, failureOf } from '../../../test/helpers/connectors.js';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.js';
import { httpConnector } from './definition.js';

describe('http steps authenticated through connections', () => {
  let receiver: Receiver;
  let call: ReturnType<typeof connectorRunner>;
  let lifetime = 3600;
  before(async () => {
    receiver = await startReceiver();
    receiver.on('/api', () => ({ status: 200, body: { ok: true } }));
    receiver.on('/token', (req) => {
      const form = new URLSearchParams(req.body);
      if (form.get('client_secret') !== 'cs-123') return { status: 401, body: { error: 'invalid_client' } };
      return {
        status: 200,
        body: {
          access_token: `tok-${receiver.requestsTo('/token').length}`,
          expires_in: lifetime,
          token_type: 'Bearer',
        },
      };
    });
    const base = { baseUrl: receiver.url };
    call = connectorRunner(httpConnector, {
      secrets: { tok: 'b-token', pw: 'p@ss', key: 'k-123', cs: 'cs-123', bad: 'wrong' },
      connections: {
        bearer: { type: 'http', config: { ...base, auth: { type: 'bearer', token: "$secret('tok')" } } },
        basic: {
          type: 'http',
          config: { ...base, auth: { type: 'basic', username: 'ann', password: "$secret('pw')" } },
        },
        header: {
          type: 'http',
          config: {
            ...base,
            headers: { 'x-team': 'a' },
            auth: { type: 'apiKey', in: 'header', name: 'X-Api-Key', value: "$secret('key')" },
          },
        },
        oauth: {
          type: 'http',
          config: {
            ...base,
            auth: {
              type: 'oauth2',
              tokenUrl: `${receiver.url}/token`,
              clientId: 'app',
              clientSecret: "$secret('cs')",
              scope: 'read',
            },
          },
        },
        badOauth: {
          type: 'http',
          config: {
            ...base,
            auth: {
              type: 'oauth2',
              tokenUrl: `${receiver.url}/token`,
              clientId: 'app2',
              clientSecret: "$secret('bad')",
            },
          },
        },
        elsewhere: {
          type: 'http',
          config: { baseUrl: 'https://api.example.com', auth: { type: 'bearer', token: "$secret('tok')" } },
        },
      },
    });
  });
  after(() => receiver.close());

  const last = () => receiver.requestsTo('/api').at(-1);

  it('sends bearer, basic and API-key (header or query) credentials, and redacts them from the output', async () => {
    await call({ url: `${receiver.url}/api` }, { connection: 'bearer' });
    assert.equal(last()?.headers.authorization, 'Bearer b-token');
    await call({ url: `${receiver.url}/api` }, { connection: 'basic' });
    assert.equal(last()?.headers.authorization, `Basic ${Buffer.from('ann:p@ss').toString('base64')}`);
    await call({ url: `${receiver.url}/api`, headers: { 'x-team': 'b' } }, { connection: 'header' });
    assert.equal(last()?.headers['x-api-key'], 'k-123');
    assert.equal(last()?.headers['x-team'], 'b');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const keyed = connectorRunner(httpConnector, {
        secrets: { key: 'k-123' },
        connections: {
          q: {
            type: 'http',
            config: {
              baseUrl: `http://127.0.0.1:${port}`,
              auth: { type: 'apiKey', in: 'query', name: 'api_key', value: "$secret('key')" },
            },
          },
        },
      });
      const { output } = await keyed({ url: `http://127.0.0.1:${port}/api?x=1` }, { connection: 'q' });
      assert.deepEqual(seen, ['/api?x=1&api_key=k-123']);
      assert.deepEqual((output as { body: unknown }).body, { echoed: '/api?x=1&api_key=[redacted]' });
    } finally {
      server.close();
    }
  });

  it('OAuth2 client credentials: the token is fetched once and reused while it lives, and fetched again when it nears expiry', async () => {
    const before = receiver.requestsTo('/token').length;
    await call({ url: `${receiver.url}/api` }, { connection: 'oauth' });
    await call({ url: `${receiver.url}/api` }, { connection: 'oauth' });
    assert.equal(receiver.requestsTo('/token').length, before + 1);
    assert.match(last()?.headers.authorization ?? '', /^Bearer tok-\d+$/);
    const form = new URLSearchParams(receiver.requestsTo('/token').at(-1)?.body);
    assert.deepEqual(
      [form.get('grant_type'), form.get('client_id'), form.get('scope')],
      ['client_credentials', 'app', 'read'],
    );
    lifetime = 10;
    receiver.on('/api', () => ({ status: 401, body: { error: 'expired' } }));
    const refused = await failureOf(call({ url: `${receiver.url}/api` }, { connection: 'oauth' }));
    assert.equal(refused.nonRetryable, false, 'a refused cached token is retried with a new one');
    receiver.on('/api', () => ({ status: 200, body: { ok: true } }));
    await call({ url: `${receiver.url}/api` }, { connection: 'oauth' });
    await call({ url: `${receiver.url}/api` }, { connection: 'oauth' });
    // After the refusal a new token; it lives 10 s, inside the refresh margin, so each call fetches.
    assert.equal(receiver.requestsTo('/token').length, before + 3);
  });

  it('refused client credentials are OAUTH2_BAD_CREDENTIALS, not retried; credentials never go to another origin', async () => {
    const bad = await failureOf(call({ url: `${receiver.url}/api` }, { connection: 'badOauth' }));
    assert.equal(bad.type, 'OAUTH2_BAD_CREDENTIALS');
    assert.equal(bad.nonRetryable, true);
    const other = await failureOf(call({ url: `${receiver.url}/api` }, { connection: 'elsewhere' }));
    assert.equal(other.type, 'HTTP_CONNECTION_ORIGIN');
    assert.equal(other.nonRetryable, true);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectorRunner, failureOf } from '../../../test/helpers/connectors.js';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.js';
import { slackConnector } from './definition.js';

const TOKEN = 'xoxb-test-token-123';

describe('the slack connector against a local receiver', () => {
  let receiver: Receiver;
  let post: ReturnType<typeof connectorRunner>;
  before(async () => {
    receiver = await startReceiver();
    receiver.on('/hook', () => ({ status: 200, body: 'ok' }));
    receiver.on('/revoked', () => ({ status: 404, body: 'no_service' }));
    receiver.on('/api/chat.postMessage', (req) =>
      req.headers.authorization === `Bearer ${TOKEN}`
        ? { status: 200, body: { ok: true, channel: 'C123', ts: '1700000000.000100' } }
        : { status: 200, body: { ok: false, error: 'invalid_auth' } },
    );
    receiver.on('/busy/chat.postMessage', () => ({
      status: 429,
      headers: { 'retry-after': '3' },
      body: { ok: false, error: 'ratelimited' },
    }));
    post = connectorRunner(slackConnector, {
      secrets: { bot: TOKEN, stale: 'xoxb-revoked', hook: `${receiver.url}/hook` },
      connections: {
        bot: { type: 'slack', config: { token: "$secret('bot')", apiUrl: `${receiver.url}/api` } },
        stale: { type: 'slack', config: { token: "$secret('stale')", apiUrl: `${receiver.url}/api` } },
        busy: { type: 'slack', config: { token: "$secret('bot')", apiUrl: `${receiver.url}/busy` } },
        hook: { type: 'slack', config: { webhookUrl: "$secret('hook')" } },
      },
    });
  });
  after(() => receiver.close());

  it('posts text and blocks to an incoming webhook, the step’s or the connection’s', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*New* user' } }];
    assert.deepEqual((await post({ webhookUrl: `${receiver.url}/hook`, text: 'New pro user', blocks })).output, {
      ok: true,
    });
    assert.deepEqual((await post({ text: 'via the connection' }, { connection: 'hook' })).output, { ok: true });
    const [first, second] = receiver.requestsTo('/hook').map((r) => JSON.parse(r.body));
    assert.deepEqual(first, { text: 'New pro user', blocks });
    assert.equal(second.text, 'via the connection');
  });

  it('calls chat.postMessage with the connection’s bot token and answers channel and ts', async () => {
    const { output } = await post({ channel: '#sales', text: 'hi', threadTs: '1.2' }, { connection: 'bot' });
    assert.deepEqual(output, { ok: true, channel: 'C123', ts: '1700000000.000100' });
    const sent = receiver.requestsTo('/api/chat.postMessage').at(-1);
    assert.deepEqual(JSON.parse(sent?.body ?? '{}'), { channel: '#sales', text: 'hi', thread_ts: '1.2' });
  });

  it('a refused token is SLACK_AUTH_FAILED and a revoked webhook SLACK_WEBHOOK_REFUSED, neither retried; a rate limit is retried after Retry-After', async () => {
    const auth = await failureOf(post({ channel: '#x', text: 'hi' }, { connection: 'stale' }));
    assert.equal(auth.type, 'SLACK_AUTH_FAILED');
    assert.equal(auth.nonRetryable, true);
    const revoked = await failureOf(post({ webhookUrl: `${receiver.url}/revoked`, text: 'hi' }));
    assert.equal(revoked.type, 'SLACK_WEBHOOK_REFUSED');
    assert.equal(revoked.nonRetryable, true);
    const limited = await failureOf(post({ channel: '#x', text: 'hi' }, { connection: 'busy' }));
    assert.equal(limited.type, 'HTTP_429');
    assert.equal(limited.nonRetryable, false);
    assert.equal(limited.nextRetryDelay, 3000);
  });

  it('the http SSRF guard applies: a webhook on loopback is refused unless allow-listed', async () => {
    const guarded = connectorRunner(slackConnector, { allowlist: '' });
    const err = await failureOf(guarded({ webhookUrl: `${receiver.url}/hook`, text: 'hi' }));
    assert.equal(err.type, 'HTTP_BLOCKED_ADDRESS');
    assert.equal(err.nonRetryable, true);
  });
});

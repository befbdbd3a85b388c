import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectorRunner, failureOf } from '../../../test/helpers/connectors.js';
import { freePort } from '../../../test/helpers/ports.js';
import { startSilentServer, startSmtpServer } from '../../../test/helpers/smtp.js';
import { emailConnector } from './definition.js';

describe('the email connector against a real SMTP server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  let send: ReturnType<typeof connectorRunner>;
  before(async () => {
    smtp = await startSmtpServer({ user: 'mailer', password: 'pa55-word' });
    silent = await startSilentServer();
    const relay = { host: '127.0.0.1', port: smtp.port, user: 'mailer' };
    send = connectorRunner(emailConnector, {
      secrets: { smtp_pw: 'pa55-word', wrong_pw: 'nope' },
      connections: {
        mailer: { type: 'smtp', config: { ...relay, password: "$secret('smtp_pw')" } },
        wrong: { type: 'smtp', config: { ...relay, password: "$secret('wrong_pw')" } },
        down: { type: 'smtp', config: { host: '127.0.0.1', port: await freePort() } },
        hangs: { type: 'smtp', config: { host: '127.0.0.1', port: silent.port } },
        db: { type: 'postgres', config: { host: '127.0.0.1', database: 'x', user: 'x' } },
      },
    });
  });
  after(async () => {
    await smtp.close();
    await silent.close();
  });

  it('delivers to, cc, bcc, reply-to, subject, text, html and attachments through the connection, with a Message-ID stable per step', async () => {
    const config = {
      from: 'hello@example.com',
      to: ['ann@example.com', 'bob@example.com'],
      cc: 'cid@example.com',
      bcc: 'dee@example.com',
      replyTo: 'help@example.com',
      subject: 'Welcome',
      text: 'Hi Ann',
      html: '<p>Hi Ann</p>',
      attachments: [
        { filename: 'note.txt', content: 'plain note' },
        {
          filename: 'data.bin',
          content: Buffer.from([1, 2, 3]).toString('base64'),
          encoding: 'base64',
          contentType: 'application/octet-stream',
        },
      ],
    };
    const first = await send(config, { connection: 'mailer' });
    const again = await send(config, { connection: 'mailer', attempt: 2 });
    const output = first.output as { messageId: string; accepted: string[] };
    assert.deepEqual(output.accepted.sort(), [
      'ann@example.com',
      'bob@example.com',
      'cid@example.com',
      'dee@example.com',
    ]);
    assert.equal((again.output as { messageId: string }).messageId, output.messageId);
    const got = smtp.received.at(-2);
    assert.ok(got);
    assert.deepEqual(got.envelope.to.sort(), [
      'ann@example.com',
      'bob@example.com',
      'cid@example.com',
      'dee@example.com',
    ]);
    assert.equal(got.mail.subject, 'Welcome');
    assert.equal(got.mail.text?.trim(), 'Hi Ann');
    assert.equal(got.mail.html, '<p>Hi Ann</p>');
    assert.equal(got.mail.replyTo?.text, 'help@example.com');
    assert.equal(got.mail.messageId, output.messageId);
    assert.equal(got.mail.headers.has('bcc'), false);
    assert.deepEqual(
      got.mail.attachments.map((a) => [a.filename, a.content.toString('hex')]),
      [
        ['note.txt', Buffer.from('plain note').toString('hex')],
        ['data.bin', '010203'],
      ],
    );
  });

  it('bad credentials fail with EMAIL_AUTH_FAILED, not retried, without the password in the error', async () => {
    const err = await failureOf(
      send({ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' }, { connection: 'wrong' }),
    );
    assert.equal(err.type, 'EMAIL_AUTH_FAILED');
    assert.equal(err.nonRetryable, true);
    assert.doesNotMatch(err.message, /nope/);
  });

  it('a relay that is down is retried (EMAIL_UNAVAILABLE); one that hangs times out and is retried (EMAIL_TIMEOUT)', async () => {
    const down = await failureOf(
      send({ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' }, { connection: 'down' }),
    );
    assert.equal(down.type, 'EMAIL_UNAVAILABLE');
    assert.equal(down.nonRetryable, false);
    const hangs = await failureOf(
      send(
        { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' },
        { connection: 'hangs', timeoutMs: 500 },
      ),
    );
    assert.equal(hangs.type, 'EMAIL_TIMEOUT');
    assert.equal(hangs.nonRetryable, false);
  });

  it('refuses a step without a connection, a connection of another kind, and one that does not exist, none retried', async () => {
    const config = { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' };
    for (const [connection, code] of [
      [undefined, 'CONNECTION_REQUIRED'],
      ['db', 'CONNECTION_TYPE_MISMATCH'],
      ['nowhere', 'CONNECTION_NOT_FOUND'],
    ] as const) {
      const err = await failureOf(send(config, connection ? { connection } : {}));
      assert.equal(err.type, code);
      assert.equal(err.nonRetryable, true);
    }
  });

  it('the SSRF guard refuses a relay on a private address unless allow-listed', async () => {
    const guarded = connectorRunner(emailConnector, {
      allowlist: '',
      connections: { mailer: { type: 'smtp', config: { host: '127.0.0.1', port: smtp.port } } },
    });
    const err = await failureOf(
      guarded({ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' }, { connection: 'mailer' }),
    );
    assert.equal(err.type, 'HTTP_BLOCKED_ADDRESS');
  });
});

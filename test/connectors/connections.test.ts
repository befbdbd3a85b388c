import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/shared/logger.js';
import { mintToken } from '../../src/shared/tokens.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { startStack, type Stack } from '../helpers/stack.js';

const SECRET = 'connections-test-secret-that-is-long-enough';

describe('connections, the catalogue and the step test (real Temporal, real PostgreSQL, a real SMTP server)', () => {
  let stack: Stack;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  // A customer's database: a PostgreSQL of its own, as the engine's own is out of every connector's reach.
  let customer: EmbeddedDatabase;
  let customerDir: string;
  let pgPort: number;
  let pgUser: string;
  const auth: Record<string, Record<string, string>> = {};
  before(async () => {
    customerDir = await mkdtemp(join(tmpdir(), 'mini-zaps-customer-'));
    await chmod(customerDir, 0o755);
    [stack, smtp, customer] = await Promise.all([
      startStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } }),
      startSmtpServer({ user: 'mailer', password: 'smtp-pa55' }),
      startEmbeddedPostgres(join(customerDir, 'pg'), await freePort(), createLogger('silent', 'test')),
    ]);
    const customerUrl = new URL(customer.url);
    [pgPort, pgUser] = [Number(customerUrl.port), customerUrl.username];
    for (const tenant of ['acme', 'globex'])
      auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
    auth.reader = {
      authorization: `Bearer ${await mintToken(SECRET, { tenant: 'acme', scopes: ['workflows:read', 'runs:read'] })}`,
    };
    await as('acme', 'PUT', '/v1/secrets/smtp_pw', { value: 'smtp-pa55' });
    await as('acme', 'PUT', '/v1/secrets/db_pw', { value: customerUrl.password });
    await as('acme', 'PUT', '/v1/secrets/wrong_pw', { value: 'not-it' });
  });
  after(async () => {
    await stack?.stop();
    await smtp?.close();
    await customer?.stop();
    await rm(customerDir, { recursive: true, force: true });
  });

  const as = (who: string, method: string, path: string, body?: unknown) => stack.call(method, path, body, auth[who]);
  const mailer = () => ({
    name: 'mailer',
    type: 'smtp',
    config: { host: '127.0.0.1', port: smtp.port, user: 'mailer', password: "$secret('smtp_pw')" },
  });
  const crmDb = () => ({
    name: 'crm_db',
    type: 'postgres',
    config: { host: '127.0.0.1', port: pgPort, database: 'minizaps', user: pgUser, password: "$secret('db_pw')" },
  });

  it('stores connections per tenant with secret fields as references: a plain secret is refused, values are never answered', async () => {
    const plain = await as('acme', 'POST', '/v1/connections', {
      ...mailer(),
      config: { ...mailer().config, password: 'smtp-pa55' },
    });
    assert.equal(plain.status, 400);
    assert.equal(plain.body.code, 'INVALID_CONNECTION');
    assert.deepEqual(
      plain.body.errors.map((e: { pointer: string }) => e.pointer),
      ['/config/password'],
    );
    assert.equal(
      (await as('acme', 'POST', '/v1/connections', { name: 'x', type: 'ftp', config: {} })).body.code,
      'UNKNOWN_CONNECTION_TYPE',
    );

    assert.equal((await as('acme', 'POST', '/v1/connections', mailer())).status, 201);
    assert.equal((await as('acme', 'POST', '/v1/connections', crmDb())).status, 201);
    assert.equal((await as('acme', 'POST', '/v1/connections', mailer())).status, 409);
    const listed = await as('acme', 'GET', '/v1/connections');
    assert.deepEqual(
      listed.body.items.map((c: { name: string }) => c.name),
      ['crm_db', 'mailer'],
    );
    const read = await as('acme', 'GET', '/v1/connections/mailer');
    assert.equal(read.body.config.password, "$secret('smtp_pw')");
    assert.doesNotMatch(JSON.stringify([listed.body, read.body]), /smtp-pa55/);

    assert.equal((await as('globex', 'GET', '/v1/connections/mailer')).status, 404);
    assert.deepEqual((await as('globex', 'GET', '/v1/connections')).body.items, []);
    assert.equal((await as('globex', 'DELETE', '/v1/connections/mailer')).status, 404);
    assert.equal((await as('reader', 'POST', '/v1/connections', { ...mailer(), name: 'other' })).status, 403);

    const replaced = await as('acme', 'PUT', '/v1/connections/temp', {
      type: 'smtp',
      config: { host: 'smtp.example.com' },
    });
    assert.equal(replaced.status, 201);
    assert.equal(
      (await as('acme', 'PUT', '/v1/connections/temp', { type: 'smtp', config: { host: 'smtp2.example.com' } })).status,
      200,
    );
    assert.equal((await as('acme', 'DELETE', '/v1/connections/temp')).status, 204);
    assert.equal((await as('acme', 'GET', '/v1/connections/temp')).status, 404);
  });

  it('POST /v1/connections/{name}/test: an SMTP handshake and SELECT 1 succeed; bad credentials answer a clear code without the secret', async () => {
    const mail = await as('acme', 'POST', '/v1/connections/mailer/test');
    assert.equal(mail.status, 200);
    assert.equal(mail.body.ok, true, JSON.stringify(mail.body));
    const db = await as('acme', 'POST', '/v1/connections/crm_db/test');
    assert.equal(db.body.ok, true, JSON.stringify(db.body));
    assert.match(db.body.details.version, /PostgreSQL/);
    await as('acme', 'PUT', '/v1/connections/bad_db', {
      type: 'postgres',
      config: { ...crmDb().config, password: "$secret('wrong_pw')" },
    });
    const bad = await as('acme', 'POST', '/v1/connections/bad_db/test');
    assert.deepEqual([bad.body.ok, bad.body.error.code, bad.body.error.retryable], [false, 'SQL_AUTH_FAILED', false]);
    assert.doesNotMatch(JSON.stringify(bad.body), /not-it/);
  });

  it('$secret() only in fields declared secret: elsewhere refused at save, and never resolved from an older stored connection', async () => {
    const misplaced = await as('acme', 'PUT', '/v1/connections/leaky', {
      type: 'smtp',
      config: { host: "$secret('smtp_pw')", port: smtp.port, user: "$secret('smtp_pw')" },
    });
    assert.equal(misplaced.status, 400);
    assert.equal(misplaced.body.code, 'INVALID_CONNECTION');
    assert.deepEqual(misplaced.body.errors.map((e: { pointer: string }) => e.pointer).sort(), [
      '/config/host',
      '/config/user',
    ]);
    // Stored before the rule: never resolved, so never shown.
    await stack.deps.connections.replace('acme', {
      name: 'leaky',
      type: 'smtp',
      config: { host: '127.0.0.1', port: smtp.port, user: "$secret('smtp_pw')", password: "$secret('smtp_pw')" },
    });
    const checked = await as('acme', 'POST', '/v1/connections/leaky/test');
    assert.deepEqual([checked.body.ok, checked.body.error?.code], [false, 'INVALID_CONNECTION']);
    assert.doesNotMatch(JSON.stringify(checked.body), /smtp-pa55/);
    const step = await as('acme', 'POST', '/v1/steps/test', {
      step: {
        id: 'm',
        type: 'email',
        connection: 'leaky',
        config: { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' },
      },
    });
    assert.equal(step.body.error?.code, 'INVALID_CONNECTION');
    assert.doesNotMatch(JSON.stringify(step.body), /smtp-pa55/);
    await as('acme', 'DELETE', '/v1/connections/leaky');
  });

  it('GET /v1/connectors lists every step type with its JSON Schema, defaults, description, example and connection', async () => {
    const res = await as('reader', 'GET', '/v1/connectors');
    assert.equal(res.status, 200);
    const email = res.body.items.find((c: { type: string }) => c.type === 'email');
    assert.deepEqual(
      res.body.items.map((c: { type: string }) => c.type),
      ['http', 'webhook', 'email', 'sql', 'slack', 'kafka', 'code'],
    );
    assert.deepEqual(email.configSchema.required.sort(), ['from', 'subject', 'to']);
    assert.equal(email.connection.type, 'smtp');
    assert.equal(email.defaults.timeout, '30s');
    assert.equal(email.example.type, 'email');
  });

  it('POST /v1/steps/test renders against the context (secrets shown as references), and unless dryRun runs the connector once', async () => {
    const step = {
      id: 'mail',
      type: 'email',
      connection: 'mailer',
      config: {
        from: 'hello@example.com',
        to: '{{ trigger.email }}',
        subject: 'Hi {{ trigger.name }}',
        text: "code {{ $secret('smtp_pw') }}",
      },
    };
    const dry = await as('acme', 'POST', '/v1/steps/test', {
      step,
      context: { trigger: { email: 'ann@example.com', name: 'Ann' } },
      dryRun: true,
    });
    assert.equal(dry.status, 200);
    assert.deepEqual(dry.body.config, {
      ...step.config,
      to: 'ann@example.com',
      subject: 'Hi Ann',
      text: "code $secret('smtp_pw')",
    });
    assert.equal(dry.body.output, undefined);
    assert.equal(smtp.received.length, 0);

    const real = await as('acme', 'POST', '/v1/steps/test', {
      step: { ...step, config: { ...step.config, text: 'Hi' } },
      context: { trigger: { email: 'ann@example.com', name: 'Ann' } },
    });
    assert.equal(real.status, 200, JSON.stringify(real.body));
    assert.deepEqual(real.body.output.accepted, ['ann@example.com']);
    assert.equal(smtp.received.at(-1)?.mail.subject, 'Hi Ann');

    const sql = await as('acme', 'POST', '/v1/steps/test', {
      step: { id: 'q', type: 'sql', connection: 'bad_db', config: { query: 'SELECT 1' } },
      context: {},
    });
    assert.equal(sql.body.error.code, 'SQL_AUTH_FAILED');
    assert.equal(
      (await as('acme', 'POST', '/v1/steps/test', { step: { id: 'd', type: 'delay', config: { duration: '1s' } } }))
        .body.code,
      'STEP_NOT_TESTABLE',
    );
    assert.equal(
      (await as('acme', 'POST', '/v1/steps/test', { step: { id: 'm', type: 'email', config: {} } })).body.code,
      'INVALID_STEP',
    );
    assert.equal((await as('reader', 'POST', '/v1/steps/test', { step, dryRun: true })).status, 403);
  });

  it('a run sends email and queries PostgreSQL through stored connections resolved inside the activities', async () => {
    const saved = await as('acme', 'POST', '/v1/workflows', {
      name: 'welcome',
      steps: [
        {
          id: 'lookup',
          type: 'sql',
          connection: 'crm_db',
          config: { query: 'SELECT $1::text AS email, 42 AS score', params: ['{{ trigger.email }}'] },
        },
        {
          id: 'mail',
          type: 'email',
          connection: 'mailer',
          config: {
            from: 'hello@example.com',
            to: '{{ steps.lookup.output.rows[0].email }}',
            subject: 'Score {{ steps.lookup.output.rows[0].score }}',
            text: 'Hi',
          },
        },
      ],
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    const started = await as('acme', 'POST', `/v1/workflows/${saved.body.id}/runs`, { email: 'bob@example.com' });
    assert.equal(started.status, 202);
    const run = await waitFor('the run to end', async () => {
      const res = await as('acme', 'GET', `/v1/runs/${started.body.runId}`);
      return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
    });
    assert.equal(run.status, 'completed', JSON.stringify(run));
    assert.equal(smtp.received.at(-1)?.mail.subject, 'Score 42');
    assert.deepEqual(smtp.received.at(-1)?.envelope.to, ['bob@example.com']);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsStore } from '../../src/activities/secret-stores/aws.js';
import { mintToken } from '../../src/shared/tokens.js';
import { leaksIn } from '../helpers/history.js';
import { freePort, waitFor } from '../helpers/ports.js';
import {
  secretStoreServersSkipReason,
  startMoto,
  startVault,
  vaultCall,
  type Server,
} from '../helpers/secret-store-servers.js';
import { useStack } from '../helpers/use-stack.js';

const AUTH = 'secret-stores-test-secret-long-enough';
const ROOT = 'root-token-of-the-test-vault';
const TTL_S = 3;
/** Values only the stores hold; none may show in a history, an answer or a log. */
const V1 = 'vault-pw-0a1b2c3d4e5f';
const V2 = 'vault-pw-rotated-9z8y7x';
const A1 = 'aws-pw-5566778899aa';
const A2 = 'aws-pw-rotated-bbccdd';

describe(
  'external secret stores: HashiCorp Vault (dev server) and AWS Secrets Manager (moto)',
  {
    skip: secretStoreServersSkipReason(),
  },
  () => {
    const logLines: string[] = [];
    const suite = useStack({
      logLines,
      env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: AUTH, SECRET_CACHE_TTL: String(TTL_S) },
    });
    const auth: Record<string, Record<string, string>> = {};
    let vault: Server;
    let moto: Server;
    let aws: SecretsManagerClient;
    let wfCounter = 0;
    const as = (tenant: string, method: string, path: string, body?: unknown) =>
      suite.stack.call(method, path, body, auth[tenant]);

    /** Runs a one-step workflow as acme whose http step sends `headers` to the receiver's `path`. */
    const runWith = async (path: string, headers: Record<string, string>, retry?: unknown) => {
      const created = await as('acme', 'POST', '/v1/workflows', {
        name: `uses external secrets ${++wfCounter}`,
        steps: [
          {
            id: 'call',
            type: 'http',
            config: { method: 'POST', url: `${suite.receiver.url}${path}`, headers, body: { n: wfCounter } },
            ...(retry ? { retry } : {}),
          },
        ],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const started = await as('acme', 'POST', `/v1/workflows/${created.body.id}/runs`, {});
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const runId: string = started.body.runId;
      return { runId, run: await ended('acme', runId) };
    };
    /** The run once it has ended, as `tenant` reads it. */
    const ended = (tenant: string, runId: string, timeoutMs = 90_000) =>
      waitFor(
        `run ${runId} to end`,
        async () => {
          const body = (await as(tenant, 'GET', `/v1/runs/${runId}`)).body;
          return ['completed', 'failed', 'cancelled', 'timed_out', 'terminated'].includes(body?.status)
            ? body
            : undefined;
        },
        timeoutMs,
      );
    const historyClean = async (runId: string) => {
      const history = await suite.stack.rawClient.workflow.getHandle(runId).fetchHistory();
      for (const value of [V1, V2, A1, A2])
        assert.deepEqual(leaksIn(history, value), [], `a value leaked into ${runId}`);
    };
    const writeVault = (path: string, data: Record<string, string>) =>
      vaultCall(vault.url, ROOT, 'POST', `secret/data/${path}`, { data });

    before(async () => {
      for (const [tenant, scopes] of [
        ['acme', ['admin']],
        ['globex', ['admin']],
        ['writer', ['workflows:write', 'workflows:read', 'runs:write']],
      ] as const)
        auth[tenant] = {
          authorization: `Bearer ${await mintToken(AUTH, { tenant: tenant === 'writer' ? 'acme' : tenant, scopes: [...scopes] })}`,
        };
      [vault, moto] = await Promise.all([startVault(ROOT), startMoto()]);
      aws = new SecretsManagerClient({
        region: 'eu-west-1',
        endpoint: moto.url,
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'moto-secret-key' },
      });

      // Vault as docs/security.md sets it up: a read-only policy on the tenant's prefix, an AppRole bound to it.
      await writeVault('zaps/acme/app/db', { password: V1 });
      await writeVault('zaps/globex/app/db', { password: 'globex-only-value' });
      await vaultCall(vault.url, ROOT, 'PUT', 'sys/policies/acl/zaps-acme', {
        policy: 'path "secret/data/zaps/acme/*" { capabilities = ["read"] }',
      });
      await vaultCall(vault.url, ROOT, 'POST', 'sys/auth/approle', { type: 'approle' });
      await vaultCall(vault.url, ROOT, 'POST', 'auth/approle/role/zaps-acme', {
        token_policies: ['zaps-acme'],
        token_ttl: '1h',
      });
      const roleId = (
        (await vaultCall(vault.url, ROOT, 'GET', 'auth/approle/role/zaps-acme/role-id')) as {
          data: { role_id: string };
        }
      ).data.role_id;
      const secretId = (
        (await vaultCall(vault.url, ROOT, 'POST', 'auth/approle/role/zaps-acme/secret-id', {})) as {
          data: { secret_id: string };
        }
      ).data.secret_id;

      await aws.send(
        new CreateSecretCommand({ Name: 'zaps/acme/prod/db', SecretString: JSON.stringify({ password: A1 }) }),
      );

      for (const [name, value] of [
        ['vault_secret_id', secretId],
        ['aws_key_id', 'AKIDTEST'],
        ['aws_secret_key', 'moto-secret-key'],
      ])
        assert.equal((await as('acme', 'PUT', `/v1/secrets/${name}`, { value })).status, 200);
      const vaultStore = await as('acme', 'POST', '/v1/secret-stores', {
        name: 'vault-main',
        type: 'vault',
        config: {
          address: vault.url,
          mount: 'secret',
          pathPrefix: 'zaps/acme',
          auth: { type: 'approle', roleId, secretId: "$secret('vault_secret_id')" },
        },
      });
      assert.equal(vaultStore.status, 201, JSON.stringify(vaultStore.body));
      const awsStore = await as('acme', 'POST', '/v1/secret-stores', {
        name: 'aws-prod',
        type: 'aws',
        config: {
          region: 'eu-west-1',
          endpoint: moto.url,
          pathPrefix: 'zaps/acme',
          auth: { type: 'static', accessKeyId: "$secret('aws_key_id')", secretAccessKey: "$secret('aws_secret_key')" },
        },
      });
      assert.equal(awsStore.status, 201, JSON.stringify(awsStore.body));
    });
    after(async () => {
      aws?.destroy();
      await Promise.all([vault?.stop(), moto?.stop()]);
    });

    it('stores are admin-only, tenant-scoped, audited, answer no credential, and /test signs in to each', async () => {
      const list = await as('acme', 'GET', '/v1/secret-stores');
      assert.deepEqual(
        list.body.items.map((s: { name: string; type: string }) => [s.name, s.type]),
        [
          ['aws-prod', 'aws'],
          ['vault-main', 'vault'],
        ],
      );
      const shown = JSON.stringify(list.body);
      assert.ok(
        !shown.includes('moto-secret-key') && shown.includes("$secret('vault_secret_id')"),
        'references, not values',
      );
      assert.equal((await as('writer', 'GET', '/v1/secret-stores')).status, 403);
      assert.equal((await as('writer', 'POST', '/v1/secret-stores/vault-main/test')).status, 403);
      assert.deepEqual((await as('globex', 'GET', '/v1/secret-stores')).body.items, []);
      assert.equal((await as('globex', 'GET', '/v1/secret-stores/vault-main')).status, 404);
      assert.equal((await as('globex', 'DELETE', '/v1/secret-stores/vault-main')).status, 404);
      assert.equal((await as('globex', 'POST', '/v1/secret-stores/vault-main/test')).status, 404);

      for (const name of ['vault-main', 'aws-prod']) {
        const tested = await as('acme', 'POST', `/v1/secret-stores/${name}/test`);
        assert.deepEqual(tested.body, { ok: true, details: { reachable: true, authenticated: true } }, name);
      }
      const audit = await as('acme', 'GET', '/v1/audit?target=vault-main');
      const created = audit.body.items.find(
        (e: { method: string; route: string }) => e.method === 'POST' && e.route === '/v1/secret-stores',
      );
      assert.ok(created, 'the creation is in the audit trail');
      assert.deepEqual([...created.fields].sort(), ['config', 'name', 'type'], 'field names, never values');
    });

    it('refuses bad stores: raw credentials, escaping prefixes, unknown auth, duplicates, the worker identity, a huge field', async () => {
      const base = {
        address: vault.url,
        mount: 'secret',
        pathPrefix: 'zaps/acme',
        auth: { type: 'token', token: "$secret('t')" },
      };
      const cases: [string, unknown, number, string][] = [
        [
          'raw token',
          { name: 'x', type: 'vault', config: { ...base, auth: { type: 'token', token: 's.rawtoken' } } },
          400,
          'INVALID_SECRET_STORE',
        ],
        [
          'prefix ..',
          { name: 'x', type: 'vault', config: { ...base, pathPrefix: 'zaps/../globex' } },
          400,
          'INVALID_SECRET_STORE',
        ],
        ['mount ..', { name: 'x', type: 'vault', config: { ...base, mount: '../sys' } }, 400, 'INVALID_SECRET_STORE'],
        [
          'unknown auth',
          { name: 'x', type: 'vault', config: { ...base, auth: { type: 'userpass' } } },
          400,
          'INVALID_SECRET_STORE',
        ],
        [
          'extra field',
          { name: 'x', type: 'vault', config: { ...base, jwtFile: '/etc/shadow' } },
          400,
          'INVALID_SECRET_STORE',
        ],
        [
          'address with credentials',
          { name: 'x', type: 'vault', config: { ...base, address: 'http://u:p@vault.example.com' } },
          400,
          'INVALID_SECRET_STORE',
        ],
        [
          'kubernetes auth, no ambient prefix',
          { name: 'x', type: 'vault', config: { ...base, auth: { type: 'kubernetes', role: 'r' } } },
          400,
          'INVALID_SECRET_STORE',
        ],
        [
          'aws default chain, no ambient prefix',
          {
            name: 'x',
            type: 'aws',
            config: { region: 'eu-west-1', pathPrefix: 'zaps/acme', auth: { type: 'default' } },
          },
          400,
          'INVALID_SECRET_STORE',
        ],
        [
          'bad region',
          { name: 'x', type: 'aws', config: { region: 'mars', pathPrefix: '', auth: { type: 'default' } } },
          400,
          'INVALID_SECRET_STORE',
        ],
        ['bad name', { name: '../x', type: 'vault', config: base }, 400, 'INVALID_REQUEST'],
        ['unknown type', { name: 'x', type: 'gcp', config: base }, 400, 'INVALID_REQUEST'],
        ['duplicate', { name: 'vault-main', type: 'vault', config: base }, 409, 'SECRET_STORE_EXISTS'],
        [
          'huge field',
          { name: 'x', type: 'vault', config: { ...base, namespace: 'n'.repeat(3_000_000) } },
          400,
          'INVALID_SECRET_STORE',
        ],
      ];
      for (const [what, body, status, code] of cases) {
        const res = await as('acme', 'POST', '/v1/secret-stores', body);
        assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
        if (code) assert.equal(res.body.code, code, what);
      }
    });

    it('a step reads a secret from each store; the values reach the receiver and nothing else', async () => {
      suite.receiver.on('/both', (req) => ({
        status: 200,
        body: { vault: req.headers['x-vault'], aws: req.headers['x-aws'] },
      }));
      const { runId, run } = await runWith('/both', {
        'x-vault': "{{ $secret('vault-main:app/db#password') }}",
        'x-aws': "{{ $secret('aws-prod:prod/db#password') }}",
      });
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const got = suite.receiver.requestsTo('/both').at(-1)?.headers;
      assert.deepEqual([got?.['x-vault'], got?.['x-aws']], [V1, A1]);
      assert.deepEqual(run.steps[0].output.body, { vault: '[redacted]', aws: '[redacted]' });
      await historyClean(runId);
      const logs = logLines.join('');
      for (const value of [V1, A1]) assert.ok(!logs.includes(value), 'a value leaked into the logs');
    });

    it('AWS through a custom endpoint connects to the address the guard checked, never to a second DNS answer', async () => {
      // The name does not resolve at all (.invalid): only the guard's answer can reach moto.
      const endpoint = moto.url.replace('127.0.0.1', 'rebind.invalid');
      const asked: string[] = [];
      const guard = {
        resolve: async (host: string) => {
          asked.push(host);
          return '127.0.0.1';
        },
      };
      const keys: Record<string, string> = { aws_key_id: 'AKIDTEST', aws_secret_key: 'moto-secret-key' };
      const store = awsStore(
        {
          region: 'eu-west-1',
          pathPrefix: '',
          endpoint,
          auth: { type: 'static', accessKeyId: "$secret('aws_key_id')", secretAccessKey: "$secret('aws_secret_key')" },
        },
        { guard, credential: async (name) => keys[name] ?? '' },
      );
      assert.deepEqual(await store.read('zaps/acme/prod/db'), { password: A1 });
      assert.deepEqual(asked, ['rebind.invalid']);
    });

    it('a rotated secret is used by the next run once the cache TTL has passed', async () => {
      suite.receiver.on('/rotate', (req) => ({ status: 200, body: { ok: req.headers['x-aws'] !== undefined } }));
      const headers = {
        'x-vault': "{{ $secret('vault-main:app/db#password') }}",
        'x-aws': "{{ $secret('aws-prod:prod/db#password') }}",
      };
      const first = await runWith('/rotate', headers);
      assert.equal(first.run.status, 'completed');
      const readAt = Date.now();
      await writeVault('zaps/acme/app/db', { password: V2 });
      await aws.send(
        new PutSecretValueCommand({ SecretId: 'zaps/acme/prod/db', SecretString: JSON.stringify({ password: A2 }) }),
      );
      // The cache keeps a value TTL_S seconds from its read; a run after that reads the store again.
      await waitFor(
        'the cache TTL to pass',
        async () => (Date.now() - readAt > TTL_S * 1000 + 500 ? true : undefined),
        30_000,
      );
      const second = await runWith('/rotate', headers);
      assert.equal(second.run.status, 'completed');
      const got = suite.receiver.requestsTo('/rotate').at(-1)?.headers;
      assert.deepEqual([got?.['x-vault'], got?.['x-aws']], [V2, A2]);
      await historyClean(second.runId);
    });

    it('a 401 from an upstream given a stale cached value invalidates it and retries once, with the fresh value', async () => {
      let current = V2;
      suite.receiver.on('/strict', (req) =>
        req.headers['x-vault'] === current
          ? { status: 200, body: { ok: true } }
          : { status: 401, body: { error: 'bad key' } },
      );
      const headers = { 'x-vault': "{{ $secret('vault-main:app/db#password') }}" };
      // The stale case needs the second run's read within the TTL of the first's: on a slow machine
      // the TTL may pass first, so the scenario is tried again (bounded) until the stale value was sent.
      let stale: { runId: string; run: { status: string; steps: { attempts: number }[] } } | undefined;
      for (let round = 0; round < 5 && !stale; round++) {
        const warm = await runWith('/strict', headers);
        assert.equal(warm.run.status, 'completed', 'the warm-up run reads the current value');
        const before = suite.receiver.requestsTo('/strict').length;
        const next = `vault-pw-round-${round}-${Date.now()}`;
        await writeVault('zaps/acme/app/db', { password: next });
        const previous = current;
        current = next;
        const result = await runWith('/strict', headers);
        const sent = suite.receiver
          .requestsTo('/strict')
          .slice(before)
          .map((r) => r.headers['x-vault']);
        assert.equal(result.run.status, 'completed', JSON.stringify(result.run));
        if (sent[0] === previous) {
          assert.deepEqual(sent, [previous, next], 'one retry, with the value read afresh');
          assert.equal(result.run.steps[0]?.attempts, 1, 'within the same attempt: no Temporal retry was needed');
          stale = result;
        }
        await historyClean(result.runId);
      }
      assert.ok(stale, 'a run sent a stale cached value within 5 rounds');
    });

    it('a Vault token by reference (least-privilege policy) reads a pinned version; the policy refuses what it does not grant', async () => {
      const created = (await vaultCall(vault.url, ROOT, 'POST', 'auth/token/create', {
        policies: ['zaps-acme'],
        no_default_policy: false,
        ttl: '1h',
      })) as { auth: { client_token: string } };
      assert.equal(
        (await as('acme', 'PUT', '/v1/secrets/vault_token', { value: created.auth.client_token })).status,
        200,
      );
      const store = (prefix: string) => ({
        type: 'vault',
        config: { address: vault.url, pathPrefix: prefix, auth: { type: 'token', token: "$secret('vault_token')" } },
      });
      assert.equal((await as('acme', 'PUT', '/v1/secret-stores/vault-token', store('zaps/acme'))).status, 201);
      suite.receiver.on('/pinned', (req) => ({ status: 200, body: { ok: req.headers['x-v'] !== undefined } }));
      const { runId, run } = await runWith('/pinned', { 'x-v': "{{ $secret('vault-token:app/db@1#password') }}" });
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(suite.receiver.requestsTo('/pinned').at(-1)?.headers['x-v'], V1, 'version 1, whatever came after');
      await historyClean(runId);
      // The same token, aimed by its store at a tree its policy does not grant: refused by Vault.
      assert.equal((await as('acme', 'PUT', '/v1/secret-stores/vault-token', store('zaps/globex'))).status, 200);
      const denied = await as('acme', 'POST', '/v1/steps/test', {
        step: {
          id: 's',
          type: 'http',
          config: {
            url: `${suite.receiver.url}/pinned`,
            headers: { x: "{{ $secret('vault-token:app/db#password') }}" },
          },
        },
      });
      assert.equal(denied.body.error?.code, 'SECRET_ACCESS_DENIED');
      assert.equal(denied.body.error?.retryable, false);
      assert.ok(!JSON.stringify(denied.body).includes('globex-only-value'));
      const tested = await as('acme', 'POST', '/v1/secret-stores/vault-token/test');
      assert.deepEqual([tested.body.ok, tested.body.error?.code], [false, 'SECRET_ACCESS_DENIED']);
    });

    it('a wrong path gives SECRET_NOT_FOUND naming the reference, in a run and in POST /v1/steps/test', async () => {
      for (const ref of ['vault-main:app/nope#password', 'vault-main:app/db#nofield', 'aws-prod:prod/nope#password']) {
        const { run } = await runWith('/both', { 'x-a': `{{ $secret('${ref}') }}` });
        assert.equal(run.status, 'failed');
        assert.equal(run.error.code, 'SECRET_NOT_FOUND', ref);
        assert.match(run.error.message, new RegExp(ref.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
        const tested = await as('acme', 'POST', '/v1/steps/test', {
          step: {
            id: 's',
            type: 'http',
            config: { url: `${suite.receiver.url}/both`, headers: { 'x-a': `{{ $secret('${ref}') }}` } },
          },
        });
        assert.equal(tested.body.error?.code, 'SECRET_NOT_FOUND', ref);
      }
    });

    it('a store that is down is retried by the step policy (SECRET_STORE_UNAVAILABLE) and read once it is up', async () => {
      const port = await freePort();
      const created = await as('acme', 'POST', '/v1/secret-stores', {
        name: 'aws-late',
        type: 'aws',
        config: {
          region: 'eu-west-1',
          endpoint: `http://127.0.0.1:${port}`,
          pathPrefix: 'zaps/acme',
          auth: { type: 'static', accessKeyId: "$secret('aws_key_id')", secretAccessKey: "$secret('aws_secret_key')" },
        },
      });
      assert.equal(created.status, 201);
      const tested = await as('acme', 'POST', '/v1/secret-stores/aws-late/test');
      assert.deepEqual(
        [tested.body.ok, tested.body.error?.code, tested.body.error?.retryable],
        [false, 'SECRET_STORE_UNAVAILABLE', true],
      );
      suite.receiver.on('/late', () => ({ status: 200, body: {} }));
      const running = runWith(
        '/late',
        { 'x-aws': "{{ $secret('aws-late:prod/db#password') }}" },
        { maxAttempts: 30, initialInterval: '1s', backoffCoefficient: 1 },
      );
      await waitFor(
        'a failed attempt',
        async () =>
          logLines.some((l) => l.includes('SECRET_STORE_UNAVAILABLE') && l.includes('step attempt failed'))
            ? true
            : undefined,
        60_000,
      );
      const late = await startMoto(port);
      const lateAws = new SecretsManagerClient({
        region: 'eu-west-1',
        endpoint: late.url,
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'moto-secret-key' },
      });
      try {
        await lateAws.send(
          new CreateSecretCommand({ Name: 'zaps/acme/prod/db', SecretString: JSON.stringify({ password: A1 }) }),
        );
        const { runId, run } = await running;
        assert.equal(run.status, 'completed', JSON.stringify(run.error));
        assert.ok(run.steps[0].attempts > 1, 'it took more than one attempt');
        assert.equal(suite.receiver.requestsTo('/late').at(-1)?.headers['x-aws'], A1);
        await historyClean(runId);
      } finally {
        lateAws.destroy();
        await late.stop();
      }
    });

    it("one tenant cannot name another tenant's store, nor leave its own store's prefix", async () => {
      const step = (secret: string, expression = `$secret('${secret}')`) => ({
        name: 'reaches',
        steps: [
          {
            id: 'c',
            type: 'http',
            config: { url: `${suite.receiver.url}/both`, headers: { x: `{{ ${expression} }}` } },
          },
        ],
      });
      const foreign = await as('globex', 'POST', '/v1/workflows', step('vault-main:app/db#password'));
      assert.deepEqual([foreign.status, foreign.body.code], [400, 'UNKNOWN_SECRET_STORE']);
      const foreignConnection = await as('globex', 'POST', '/v1/connections', {
        name: 'c',
        type: 'postgres',
        config: { host: 'db.example.com', database: 'd', user: 'u', password: "$secret('vault-main:app/db#password')" },
      });
      assert.deepEqual([foreignConnection.status, foreignConnection.body.code], [400, 'UNKNOWN_SECRET_STORE']);
      for (const escape of [
        'vault-main:../globex/app/db#password',
        'vault-main:/zaps/globex/app/db#password',
        'vault-main:app/./db#password',
        'vault-main:app/db',
        'aws-prod:prod/../../x#p',
      ]) {
        const refused = await as('acme', 'POST', '/v1/workflows', step(escape));
        assert.deepEqual([refused.status, refused.body.code], [400, 'INVALID_DEFINITION'], escape);
        assert.equal(refused.body.errors?.[0]?.pointer, '/steps/0/config/headers/x', escape);
      }
      const badConnection = await as('acme', 'POST', '/v1/connections', {
        name: 'c',
        type: 'postgres',
        config: { host: 'db.example.com', database: 'd', user: 'u', password: "$secret('vault-main:../x#p')" },
      });
      assert.deepEqual([badConnection.status, badConnection.body.code], [400, 'INVALID_CONNECTION']);

      // References built at run time are checked where they are resolved.
      const built = await as('globex', 'POST', '/v1/workflows', step('', "$secret('vault-' & 'main:app/db#password')"));
      assert.equal(built.status, 201, JSON.stringify(built.body));
      const run = await ended(
        'globex',
        (await as('globex', 'POST', `/v1/workflows/${built.body.id}/runs`, {})).body.runId,
      );
      assert.equal(run.error?.code, 'SECRET_NOT_FOUND');
      assert.match(run.error.message, /no secret store 'vault-main'/);
      const escaping = await as('acme', 'POST', '/v1/steps/test', {
        step: {
          id: 's',
          type: 'http',
          config: {
            url: `${suite.receiver.url}/both`,
            headers: { x: "{{ $secret('vault-main:' & '../globex/app/db#password') }}" },
          },
        },
      });
      assert.equal(escaping.body.error?.code, 'INVALID_SECRET_REFERENCE');
      assert.ok(!JSON.stringify(escaping.body).includes('globex-only-value'));
    });

    it("a store may not point at the engine's own database (HOST_RESERVED)", async () => {
      const db = new URL(suite.stack.config.DATABASE_URL ?? '');
      const res = await as('acme', 'POST', '/v1/secret-stores', {
        name: 'sneaky',
        type: 'vault',
        config: {
          address: `http://127.0.0.1:${db.port}`,
          pathPrefix: 'x',
          auth: { type: 'token', token: "$secret('vault_secret_id')" },
        },
      });
      assert.equal(res.status, 201);
      const tested = await as('acme', 'POST', '/v1/secret-stores/sneaky/test');
      assert.deepEqual([tested.body.ok, tested.body.error?.code], [false, 'HOST_RESERVED']);
      assert.equal((await as('acme', 'DELETE', '/v1/secret-stores/sneaky')).status, 204);
    });
  },
);

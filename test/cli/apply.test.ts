import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { mintToken } from '../../src/shared/tokens.js';
import { useStack } from '../helpers/use-stack.js';
import { json, mz } from './mz.js';

const SECRET = 'cli-test-secret-that-is-long-enough-for-hs256';
const EXAMPLES = new URL('../../examples/', import.meta.url);

interface Plan {
  counts: { create: number; update: number; unchanged: number; delete: number };
  changes: { kind: string; action: string; key?: string; name?: string }[];
}

/**
 * `mz apply`, `diff` and `export`, run as the package's bin against the whole engine served over
 * real HTTP (real Temporal, PostgreSQL), as two tenants.
 */
describe('mz apply, diff and export (the bin, over HTTP, real stack)', () => {
  const suite = useStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } });
  let server: ServerType;
  let dir: string;
  const envs: Record<string, Record<string, string>> = {};
  before(async () => {
    server = serve({ fetch: suite.stack.app.fetch, hostname: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'mz-apply-'));
    for (const tenant of ['staging', 'production'])
      envs[tenant] = {
        MZ_URL: url,
        MZ_TOKEN: await mintToken(SECRET, { tenant, scopes: ['admin'] }),
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, 'config'),
      };
  });
  after(async () => {
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const as = (tenant: string, method: string, path: string, body?: unknown) =>
    suite.stack.call(method, path, body, { authorization: `Bearer ${envs[tenant]?.MZ_TOKEN}` });
  const staging = (args: string[]) => mz(args, envs.staging ?? {});
  /** The tenant's live workflows by key, with their latest version and definition. */
  const liveByKey = async (tenant: string) => {
    const items: { id: string; key: string | null; latestVersion: number }[] = (
      await as(tenant, 'GET', '/v1/workflows')
    ).body.items;
    const out = new Map<string, { id: string; version: number; definition: unknown }>();
    for (const w of items) {
      const full = (await as(tenant, 'GET', `/v1/workflows/${w.id}`)).body;
      if (w.key) out.set(w.key, { id: w.id, version: full.version, definition: full.definition });
    }
    return out;
  };

  let work: string;
  it('plans the examples without applying them, then applies them on --yes: every workflow, trigger and connection made', async () => {
    work = join(dir, 'repo');
    await cp(EXAMPLES, work, { recursive: true });
    const planned = await staging(['apply', '-f', work]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /\+ workflow hello/);
    assert.match(planned.stdout, /Plan: 5 to create, 0 to update, 0 to delete, 0 unchanged\./);
    assert.match(planned.stdout, /Not applied/);
    assert.equal((await liveByKey('staging')).size, 0, 'a plan changes nothing');

    const applied = await staging(['apply', '-f', work, '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Applied: 5 create, 0 update, 0 delete, 0 unchanged\./);
    const live = await liveByKey('staging');
    assert.deepEqual([...live.keys()].sort(), ['hello', 'on-failure', 'welcome']);
    const hello = JSON.parse(await readFile(join(work, 'hello.json'), 'utf8'));
    assert.deepEqual(live.get('hello')?.definition, hello);
    const triggers = (await as('staging', 'GET', `/v1/workflows/${live.get('hello')?.id}/triggers`)).body.items;
    assert.equal(triggers.length, 1);
    assert.equal(triggers[0].cron, '0 9 * * 1');
    const crm = await as('staging', 'GET', '/v1/connections/crm');
    assert.equal(crm.status, 200);
    assert.equal(crm.body.config.auth.token, "$secret('crm_token')");
  });

  it('a second apply changes nothing: no new version, and says 0 changes', async () => {
    const before = await liveByKey('staging');
    const again = await staging(['apply', '-f', work, '--auto-approve', '--json']);
    assert.equal(again.code, 0, again.stderr);
    const plan = json<Plan>(again);
    assert.deepEqual(plan.counts, { create: 0, update: 0, delete: 0, unchanged: 5 });
    const after = await liveByKey('staging');
    for (const [key, w] of before) assert.equal(after.get(key)?.version, w.version, key);
    const diff = await staging(['diff', '-f', work]);
    assert.equal(diff.code, 0, diff.stdout + diff.stderr);
    assert.match(diff.stdout, /No changes: 5 unchanged\./);
  });

  it('editing one file gives exactly one new version, shown as a field diff first', async () => {
    const path = join(work, 'welcome.json');
    const welcome = JSON.parse(await readFile(path, 'utf8'));
    welcome.steps[0].config.duration = '5s';
    await writeFile(path, JSON.stringify(welcome, null, 2));
    const diff = await staging(['diff', '-f', work]);
    assert.equal(diff.code, 5, 'diff exits 5 when the files and the tenant differ');
    assert.match(diff.stdout, /~ workflow welcome/);
    assert.match(diff.stdout, /~ \/steps\/0\/config\/duration: "3s" → "5s"/);
    const before = await liveByKey('staging');
    const applied = await staging(['apply', '-f', work, '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Applied: 0 create, 1 update, 0 delete, 4 unchanged\./);
    const after = await liveByKey('staging');
    assert.equal(after.get('welcome')?.version, (before.get('welcome')?.version ?? 0) + 1);
    assert.equal(after.get('hello')?.version, before.get('hello')?.version);
    assert.equal(after.get('welcome')?.id, before.get('welcome')?.id, 'the key maps to the same workflow');
  });

  it('export, then apply on a second tenant, reproduces the same definitions and triggers', async () => {
    const out = join(dir, 'exported');
    const exported = await staging(['export', '-o', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual((await readdir(out)).sort(), [
      'connections.yaml',
      'hello.yaml',
      'on-failure.yaml',
      'welcome.yaml',
    ]);
    const production = (args: string[]) => mz(args, envs.production ?? {});
    const applied = await production(['apply', '-f', out, '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    const [from, to] = [await liveByKey('staging'), await liveByKey('production')];
    assert.deepEqual([...to.keys()].sort(), [...from.keys()].sort());
    for (const [key, w] of from) assert.deepEqual(to.get(key)?.definition, w.definition, key);
    const again = await production(['apply', '-f', out, '--yes']);
    assert.match(again.stdout, /No changes/);
    const diff = await production(['diff', '-f', work]);
    assert.equal(diff.code, 0, 'the exported files and the original ones describe the same thing');
  });

  it('--prune deletes a removed workflow’s triggers and archives it; workflows made without a key stay', async () => {
    const manual = await as('staging', 'POST', '/v1/workflows', {
      name: 'by hand',
      steps: [{ id: 'a', type: 'succeed' }],
    });
    const hello = (await liveByKey('staging')).get('hello');
    await rm(join(work, 'hello.workflow.yaml'));
    await rm(join(work, 'hello.json'));
    const withoutPrune = await staging(['apply', '-f', work, '--yes']);
    assert.match(withoutPrune.stdout, /No changes/, 'without --prune a removed file deletes nothing');
    const pruned = await staging(['apply', '-f', work, '--prune', '--yes']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /- workflow hello/);
    assert.match(pruned.stdout, /- trigger of hello/);
    assert.match(pruned.stdout, /Applied: 0 create, 0 update, 2 delete/);
    const archived = await as('staging', 'GET', `/v1/workflows/${hello?.id}`);
    assert.notEqual(archived.body.archivedAt, null);
    const triggers = await as('staging', 'GET', `/v1/workflows/${hello?.id}/triggers`);
    assert.deepEqual(triggers.body.items, []);
    assert.equal((await as('staging', 'GET', `/v1/workflows/${manual.body.id}`)).body.archivedAt, null);
  });

  it('refuses files it cannot apply before changing anything, readably (exit 2 for files, 1 for the API)', async () => {
    const bad = join(dir, 'bad');
    await cp(EXAMPLES, bad, { recursive: true });
    await writeFile(join(bad, 'stray.json'), '{"name": "not wrapped", "steps": []}');
    const stray = await staging(['apply', '-f', bad, '--yes']);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /stray\.json/);
    await rm(join(bad, 'stray.json'));
    await writeFile(join(bad, 'twice.yaml'), 'key: hello\ndefinition: ./hello.json\n');
    const twice = await staging(['apply', '-f', bad]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /key 'hello' is in both/);
    await rm(join(bad, 'twice.yaml'));
    await writeFile(join(bad, 'hello.json'), JSON.stringify({ name: 'broken', steps: [{ id: 'x', type: 'nope' }] }));
    const invalid = await staging(['apply', '-f', bad, '--yes']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /hello\.workflow\.yaml.*HTTP 400 INVALID_DEFINITION/s);
    assert.match(invalid.stderr, /\/steps\/0/);
    await writeFile(join(bad, 'hello.workflow.yaml'), 'key: "../etc"\ndefinition: ./welcome.json\n');
    const badKey = await staging(['apply', '-f', bad]);
    assert.equal(badKey.code, 2);
    const yamlBomb = join(dir, 'bomb.yaml');
    await writeFile(
      yamlBomb,
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
        { length: 12 },
        (_, i) =>
          `b${i}: &b${i} [${Array(10)
            .fill(i ? `*b${i - 1}` : '*a')
            .join(', ')}]`,
      ).join('\n')}\n`,
    );
    const bomb = await staging(['apply', '-f', yamlBomb]);
    assert.equal(bomb.code, 2, bomb.stderr);
  });

  it('the API refuses a key held by a live workflow (409) and a malformed key (400)', async () => {
    const definition = { name: 'k', steps: [{ id: 'a', type: 'succeed' }] };
    assert.equal((await as('staging', 'POST', '/v1/workflows?key=held', definition)).status, 201);
    const taken = await as('staging', 'POST', '/v1/workflows?key=held', definition);
    assert.equal(taken.status, 409);
    assert.equal(taken.body.code, 'WORKFLOW_KEY_TAKEN');
    assert.equal(
      (await as('production', 'POST', '/v1/workflows?key=held', definition)).status,
      201,
      'keys are per tenant',
    );
    for (const key of ['', '-x', 'a/b', 'x'.repeat(101), 'é'])
      assert.equal(
        (await as('staging', 'POST', `/v1/workflows?key=${encodeURIComponent(key)}`, definition)).status,
        400,
        key,
      );
    const found = await as('staging', 'GET', '/v1/workflows?key=held');
    assert.equal(found.body.items.length, 1);
    assert.equal(found.body.items[0].key, 'held');
  });
});

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, waitFor } from '../../test/helpers/ports.js';
import type { Definition } from '../definitions/schema.js';
import { createLogger } from '../shared/logger.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';
import { migrate } from './migrate.js';
import { createPool, type Pool } from './pool.js';
import { watchLatestVersions, type LatestVersions } from './workflow-changes.js';
import { createWorkflowsRepo } from './workflows-repo.js';

const logger = createLogger('silent', 'test');
const definition = (name: string): Definition => ({
  name,
  steps: [{ id: 'a', type: 'transform', config: { expression: '1' } }],
});

// Two API processes over one database: each keeps the latest versions, each must see the other's changes.
describe('latest versions kept in memory', () => {
  let dir: string;
  let db: EmbeddedDatabase;
  let pool: Pool;
  let watchers: LatestVersions[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mini-zaps-changes-'));
    await chmod(dir, 0o755);
    db = await startEmbeddedPostgres(join(dir, 'pg'), await freePort(), logger);
    pool = createPool(db.url, logger);
    await migrate(pool);
    watchers = [watchLatestVersions(db.url, logger), watchLatestVersions(db.url, logger)];
  });
  after(async () => {
    await Promise.all(watchers.map((w) => w.close()));
    await pool.end();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a trigger in one process starts the version another process just saved, and refuses once it archived', async () => {
    const [a, b] = watchers.map((w) => createWorkflowsRepo(pool, w)) as [
      ReturnType<typeof createWorkflowsRepo>,
      ReturnType<typeof createWorkflowsRepo>,
    ];
    const { id } = await a.create('acme', definition('v1'));
    await waitFor('the listeners', async () =>
      (await a.forTrigger('acme', id)) && watchers[0]!.get(`acme\n${id}`) ? true : undefined,
    );
    assert.equal((await a.forTrigger('acme', id)).version, 1);

    await b.addVersion('acme', id, definition('v2'));
    assert.equal((await b.forTrigger('acme', id)).version, 2, 'the writer sees its change at once');
    const seen = await waitFor(
      'the change to reach the other process',
      async () => ((await a.forTrigger('acme', id)).version === 2 ? true : undefined),
      60_000,
    );
    assert.equal(seen, true);
    assert.equal((await a.forTrigger('acme', id)).definition.name, 'v2');

    await b.archive('acme', id);
    await waitFor(
      'the archiving to reach the other process',
      async () => ((await a.forTrigger('acme', id)).archivedAt ? true : undefined),
      60_000,
    );
  });

  it('keeps nothing for workflows that do not exist, nor across tenants', async () => {
    const repo = createWorkflowsRepo(pool, watchers[0]);
    const { id } = await repo.create('acme', definition('mine'));
    await repo.forTrigger('acme', id);
    await assert.rejects(repo.forTrigger('other', id), { code: 'NOT_FOUND' });
    await assert.rejects(repo.forTrigger('acme', 'no-such-workflow'), { code: 'NOT_FOUND' });
  });
});

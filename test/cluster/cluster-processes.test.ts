import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordChildrenIn, spawnLogged } from '../../scripts/cluster-processes.js';
import { reapOrphans } from '../../src/main/dev/processes.js';
import { waitFor } from '../helpers/ports.js';

describe('npm run cluster: the processes it starts', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mini-zaps-cluster-processes-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a program that is not installed is one line naming it and how to install it, not an unhandled error', async () => {
    await assert.rejects(spawnLogged('redis', 'redis-server', ['--port', '0'], { PATH: dir }, dir), (err: Error) => {
      assert.equal(err.message, 'redis-server is not installed (install it: apt-get install redis-server)');
      return true;
    });
    await assert.rejects(spawnLogged('x', 'no-such-program', [], {}, dir), /^Error: no-such-program is not installed$/);
  });

  it('records each child, even one whose start script execs its server, so that a watchdog can stop it', async () => {
    recordChildrenIn(dir);
    // As temporal-config/start.sh does: a shell that execs the server (here `sleep`).
    const child = await spawnLogged('server', 'sh', ['-c', 'exec sleep 300'], {}, dir);
    const exited = new Promise((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    await waitFor('the shell to exec its server', async () =>
      readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep') ? true : undefined,
    );
    const reaped = await reapOrphans(dir, [], 5_000);
    assert.deepEqual(
      reaped.map((c) => c.name),
      ['server'],
    );
    assert.equal(await exited, 'SIGTERM');
  });
});

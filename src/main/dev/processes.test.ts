import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { claim, identify, reapOrphans, record, release, runningOwner } from './processes.js';

describe('the dev pid file', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const sleeper = () => {
    const c = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(c);
    return c.pid ?? 0;
  };
  const dataDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'mini-zaps-pids-'));
    dirs.push(d);
    return d;
  };

  it('reaping stops a recorded child that still runs', async () => {
    const dir = await dataDir();
    claim(dir);
    const pid = sleeper();
    record(dir, 'sleeper', pid);
    const reaped = await reapOrphans(dir, [], 2_000);
    assert.deepEqual(
      reaped.map((c) => c.pid),
      [pid],
    );
    assert.equal(identify(pid), undefined);
  });

  it('never signals a recorded pid that now belongs to another process (another start time)', async () => {
    const dir = await dataDir();
    claim(dir);
    const pid = sleeper();
    record(dir, 'sleeper', pid);
    const file = join(dir, 'dev.pids.json');
    // As if the recorded process had ended and its pid been reused by a later one.
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/"startTime":"(\d+)","program":"[^"]*sleep/, (m, t: string) =>
        m.replace(t, String(Number(t) - 1)),
      ),
    );
    assert.deepEqual(await reapOrphans(dir, [], 500), []);
    assert.ok(identify(pid), 'the process with the reused pid still runs');
  });

  it('names the owner of a data directory while it runs, and nobody once it has ended or released it', async () => {
    const dir = await dataDir();
    const pid = sleeper();
    // As another dev process would have claimed it.
    writeFileSync(join(dir, 'dev.pids.json'), JSON.stringify({ owner: identify(pid), children: [] }));
    assert.equal(runningOwner(dir)?.pid, pid);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 2_000;
    while (identify(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(runningOwner(dir), undefined);
    claim(dir);
    assert.equal(runningOwner(dir), undefined, 'this process is not another owner');
    release(dir);
    assert.equal(runningOwner(dir), undefined);
  });
});

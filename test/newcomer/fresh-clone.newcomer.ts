// The newcomer's path, run by .ci/run after the suite: a fresh clone of this repository's HEAD in a
// temporary directory, then `npm run dev` and the README's first curl commands (read from the
// clone's README.md, so the test follows it), then `npm run cluster` and one run through it. Every
// address either prints must answer, and neither leaves a process behind: dev stopped by Ctrl-C,
// the cluster by SIGKILL of its whole process group (its watchdog must reap what it started).
//
// The clone reuses this checkout's node_modules and the tools in .tools by symlink: .ci/run has just installed
// them from the same package-lock.json and pinned versions, and installing them again (npm ci, the
// Temporal server and Web UI built from Go) would only test npm and Go once more, for many minutes.
// Everything else (scripts/ensure.mjs, the dev and cluster scripts, .data/) runs in the clone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freeBase } from '../../scripts/cluster-processes.js';
import { TEMPORAL_PORT_OFFSETS } from '../../scripts/cluster-temporal.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { acceptsTcp, launch, processesUnder, signalGroup, type Launched } from './processes.js';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;
let clone: string;
const launched: Launched[] = [];
let passed = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mini-zaps-newcomer-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when this runs as root
  clone = join(dir, 'mini-zaps');
  execFileSync('git', ['clone', '--quiet', ROOT, clone]);
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(clone, 'node_modules'));
  // .tools/ of its own, each tool in it linked: ensure.mjs writes the clone's own paths.json there.
  const tools = realpathSync(join(ROOT, '.tools'));
  mkdirSync(join(clone, '.tools'));
  for (const entry of readdirSync(tools).filter((e) => e !== 'paths.json'))
    symlinkSync(join(tools, entry), join(clone, '.tools', entry));
  // The lock file is the one node_modules was installed from: dated as it is here, so ensure.mjs
  // sees node_modules current and does not run `npm ci` through the symlink.
  const lock = statSync(join(ROOT, 'package-lock.json'));
  assert.equal(
    readFileSync(join(clone, 'package-lock.json'), 'utf8'),
    readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
  );
  utimesSync(join(clone, 'package-lock.json'), lock.atime, lock.mtime);
});

after(async () => {
  for (const l of launched) signalGroup(l, 'SIGKILL');
  if (dir && passed === 2) await rm(dir, { recursive: true, force: true });
  else if (dir) process.stdout.write(`# the clone is kept in ${clone}\n`);
});

/** Every http(s) address in printed text (not the curl templates). */
const urlsIn = (text: string): string[] =>
  [...new Set(text.match(/https?:\/\/[^\s)'"]+/g) ?? [])].filter((u) => !/[$<]/.test(u));

/** Every printed http address answers (the bare API base may say 404: it has no page), with the token. */
async function assertAnswers(urls: string[], token: string): Promise<void> {
  for (const url of urls) {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    const bare = new URL(url).pathname === '/';
    assert.ok(bare ? res.status < 500 : res.status < 400, `${url} answered ${res.status}`);
  }
}

async function assertNothingLeft(what: string): Promise<void> {
  await waitFor(
    `${what} to leave no process behind`,
    async () => (processesUnder(clone).length === 0 ? true : undefined),
    90_000,
  ).catch(() => assert.fail(`${what} left processes behind:\n${processesUnder(clone).join('\n')}`));
}

async function runCompletes(api: string, token: string, runId: string): Promise<void> {
  await waitFor(
    `run ${runId} to complete`,
    async () => {
      const res = await fetch(`${api}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${token}` } });
      const run = (await res.json()) as { status: string; error?: unknown };
      if (['failed', 'cancelled', 'timed_out', 'terminated'].includes(run.status))
        assert.fail(`run ${runId} ended ${run.status}: ${JSON.stringify(run.error)}`);
      return run.status === 'completed' ? true : undefined;
    },
    120_000,
  );
}

/** The README's first commands: the zcurl alias, then create a workflow, trigger a run and read it. */
function readmeFirstCurls(apiHost: string): string {
  const readme = readFileSync(join(clone, 'README.md'), 'utf8');
  const start = readme.indexOf('alias zcurl=');
  const last = readme.indexOf('zcurl localhost:3000/v1/runs/$RUN', start);
  assert.ok(start >= 0 && last > start, 'README.md shows `alias zcurl=…`, then creates, triggers and reads a run');
  return readme.slice(start, readme.indexOf('\n', last)).replaceAll('localhost:3000', apiHost);
}

test('npm run dev, then the README’s first curl commands: the run completes, every printed address answers, Ctrl-C leaves nothing', async () => {
  const [api, temporal, ui, postgres, sdk] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // The example calls the API at :3000; this machine may have another dev there.
  const hello = join(clone, 'examples', 'hello.json');
  writeFileSync(hello, readFileSync(hello, 'utf8').replaceAll('127.0.0.1:3000', `127.0.0.1:${api}`));
  const dev = launch('npm', ['run', 'dev'], clone, {
    API_PORT: String(api),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${ui}`,
    EMBEDDED_POSTGRES_PORT: String(postgres),
    TEMPORAL_SDK_METRICS_ADDRESS: `127.0.0.1:${sdk}`,
  });
  launched.push(dev);
  const banner = (await dev.waitFor(/Then: curl/, 600_000)).slice(dev.output().indexOf('Mini-Zaps is running'));
  const token = /export TOKEN=(\S+)/.exec(banner)?.[1];
  assert.ok(token, `dev printed a token:\n${banner}`);
  await assertAnswers(urlsIn(banner), token);
  assert.ok(await acceptsTcp('127.0.0.1', temporal), 'the printed gRPC address answers');
  assert.ok(await acceptsTcp('127.0.0.1', postgres), 'the printed PostgreSQL address answers');

  const script = join(dir, 'readme.sh');
  writeFileSync(
    script,
    `set -euo pipefail\nshopt -s expand_aliases\n${readmeFirstCurls(`localhost:${api}`)}\necho\necho "RUN=$RUN"\n`,
  );
  const out = execFileSync('bash', [script], { cwd: clone, env: { ...process.env, TOKEN: token }, encoding: 'utf8' });
  const runId = /^RUN=(\S+)$/m.exec(out)?.[1];
  assert.ok(runId, `the README's commands started a run:\n${out}`);
  assert.match(out, new RegExp(`"id":"${runId}"`), 'zcurl …/v1/runs/$RUN shows the run');
  await runCompletes(`http://127.0.0.1:${api}`, token, runId);

  signalGroup(dev, 'SIGINT');
  // npm itself takes the terminal's SIGINT too, and ends by it.
  assert.ok([0, 'SIGINT'].includes((await dev.exited) ?? ''), `npm run dev stopped:\n${dev.output().slice(-2000)}`);
  assert.match(dev.output(), /stopping/);
  await assertNothingLeft('npm run dev');
  passed++;
});

test('npm run cluster, then one run through it: every printed address answers; SIGKILLed, it leaves nothing', async () => {
  const temporal = await freeBase(TEMPORAL_PORT_OFFSETS, 20_000, 32_000);
  const [api, ui] = [await freePort(), await freePort()];
  const cluster = launch(
    'npm',
    ['run', 'cluster', '--', '--port', String(api), '--temporal-port', String(temporal), '--ui-port', String(ui)],
    clone,
  );
  launched.push(cluster);
  // A cold machine builds the Temporal server and its Web UI first.
  const banner = (await cluster.waitFor(/Ctrl-C stops everything/, 1_500_000)).slice(
    cluster.output().indexOf('production topology is up'),
  );
  const token = /export TOKEN=(\S+)/.exec(banner)?.[1];
  assert.ok(token, `the cluster printed a token:\n${banner}`);
  await assertAnswers(urlsIn(banner), token);
  for (const [what, pattern] of [
    ['Temporal gRPC', /Temporal \(gRPC\)\s+([\d.]+):(\d+)/],
    ['PostgreSQL', /postgres:\/\/[^@]+@([\d.]+):(\d+)/],
    ['Redis', /redis:\/\/([\d.]+):(\d+)/],
  ] as const) {
    const [, host = '', port = ''] = pattern.exec(banner) ?? [];
    assert.ok(await acceptsTcp(host, Number(port)), `the printed ${what} address ${host}:${port} answers`);
  }

  const base = `http://127.0.0.1:${api}`;
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { id?: string; runId?: string };
  };
  const wf = await call('/v1/workflows', {
    name: 'newcomer',
    steps: [
      { id: 'wait', type: 'delay', config: { duration: '1s' } },
      { id: 'greet', type: 'transform', config: { expression: "'Hello, ' & trigger.name" } },
    ],
  });
  assert.ok(wf.id, JSON.stringify(wf));
  const run = await call(`/v1/workflows/${wf.id}/runs`, { name: 'Ada' });
  assert.ok(run.runId, JSON.stringify(run));
  await runCompletes(base, token, run.runId);

  signalGroup(cluster, 'SIGKILL');
  await cluster.exited;
  await assertNothingLeft('a SIGKILLed npm run cluster');
  passed++;
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, waitFor } from '../helpers/ports.js';

const root = new URL('../..', import.meta.url).pathname;

/** `npm run dev` without its provisioning step: `tsx src/main/dev.ts`, in a process group of its own like a terminal's job. */
function startDev(env: NodeJS.ProcessEnv) {
  const launcher = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['src/main/dev.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  launcher.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  launcher.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  return { launcher, exited, stdout: () => stdout, stderr: () => stderr };
}
type Dev = ReturnType<typeof startDev>;

/** Every process now running: pid, parent pid and command line (from /proc). */
function processes(): { pid: number; ppid: number; args: string[] }[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (state === 'Z') return [];
        return [{ pid: Number(d), ppid: Number(ppid), args: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0') }];
      } catch {
        return [];
      }
    });
}

/**
 * The Temporal dev server and PostgreSQL running on `dataDir` (their command lines name it). A
 * child PostgreSQL just forked still shows its parent's command line: only the servers themselves,
 * not their children, are counted.
 */
function serversOn(dataDir: string): { temporal: number[]; postgres: number[] } {
  const named = processes().filter((p) => p.args.some((a) => a.includes(dataDir)));
  const pids = new Set(named.map((p) => p.pid));
  const on = named.filter((p) => !pids.has(p.ppid));
  return {
    temporal: on.filter((p) => p.args[0]?.endsWith('/temporal')).map((p) => p.pid),
    postgres: on.filter((p) => p.args[0]?.endsWith('/postgres')).map((p) => p.pid),
  };
}

/** The fields of API answers this test reads. */
interface Answer {
  id?: string;
  runId?: string;
  status?: string;
  error?: { code?: string };
  result?: unknown;
}

const running = (pid: number) => processes().some((p) => p.pid === pid);
const devProcess = (dev: Dev) => processes().find((p) => p.ppid === dev.launcher.pid)?.pid;
const watchdogOf = (dataDir: string) =>
  processes().find((p) => p.args.some((a) => a.endsWith('watchdog.ts')) && p.args.includes(dataDir))?.pid;

describe('npm run dev', { timeout: 600_000 }, () => {
  let dataDir = '';
  let env: NodeJS.ProcessEnv = {};
  let apiPort = 0;
  let temporalPort = 0;
  let uiPort = 0;
  const devs: Dev[] = [];
  const api = (path: string) => `http://127.0.0.1:${apiPort}${path}`;
  const healthy = (dev: Dev) =>
    waitFor(
      'the API of npm run dev',
      async () => {
        if (dev.launcher.exitCode !== null) throw new Error(`npm run dev exited: ${dev.stderr()}`);
        return (await fetch(api('/healthz'))).ok || undefined;
      },
      // Temporal and PostgreSQL each have a minute to start (a loaded machine is slow), then the API.
      180_000,
    );

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mini-zaps-dev-'));
    await chmod(dataDir, 0o755); // PostgreSQL runs as its own user when the tests run as root
    [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !['HTTP_ALLOWLIST', 'DATABASE_URL', 'AUTH_MODE', 'NODE_ENV'].includes(k),
      ),
    );
    env = {
      ...inherited,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      API_PORT: String(apiPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}`,
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      TEMPORAL_SDK_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
    };
  });

  after(async () => {
    for (const dev of devs) {
      try {
        process.kill(-(dev.launcher.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const { temporal, postgres } = serversOn(dataDir);
    for (const pid of [...temporal, ...postgres, watchdogOf(dataDir)]) if (pid) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a SIGKILLed dev takes the Temporal dev server and PostgreSQL it started down with it', async () => {
    const dev = startDev(env);
    devs.push(dev);
    await healthy(dev);
    const started = serversOn(dataDir);
    assert.equal(started.temporal.length, 1, 'a Temporal dev server runs on the data directory');
    assert.equal(started.postgres.length, 1, 'a PostgreSQL runs on the data directory');
    const pid = devProcess(dev);
    assert.ok(pid, 'the process running src/main/dev.ts');
    process.kill(pid, 'SIGKILL');
    await dev.exited;
    await waitFor(
      'the servers to stop',
      async () => (serversOn(dataDir).temporal.length + serversOn(dataDir).postgres.length === 0 ? true : undefined),
      60_000,
    );
    assert.ok(![...started.temporal, ...started.postgres].some(running));
  });

  it('starts again on the same data directory after that', async () => {
    const dev = startDev(env);
    devs.push(dev);
    await healthy(dev);
    assert.equal(dev.stderr(), '');
  });

  it('lets an http step reach the API itself (examples/hello.json) but not the Temporal Web UI or gRPC ports', async () => {
    const dev = devs.at(-1);
    const token = /export TOKEN=(\S+)/.exec(dev?.stdout() ?? '')?.[1];
    assert.ok(token, 'the banner prints a dev token');
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(api(path), {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const answer: Answer = JSON.parse(await res.text());
      return { status: res.status, body: answer };
    };
    const run = async (definition: unknown) => {
      const wf = await call('POST', '/v1/workflows', definition);
      assert.equal(wf.status, 201, JSON.stringify(wf.body));
      const started = await call('POST', `/v1/workflows/${wf.body.id}/runs`, { name: 'Ada' });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      return waitFor(
        'the run to end',
        async (): Promise<Answer | undefined> => {
          const { body } = await call('GET', `/v1/runs/${started.body.runId}`);
          return body.status === 'completed' || body.status === 'failed' ? body : undefined;
        },
        30_000,
      );
    };
    const reach = (url: string) => ({
      name: `reach ${url}`,
      steps: [{ id: 'get', type: 'http', config: { method: 'GET', url }, retry: { maxAttempts: 1 } }],
    });

    for (const url of [
      `http://127.0.0.1:${uiPort}/api/v1/namespaces/default/workflows`,
      `http://localhost:${uiPort}/api/v1/namespaces`,
      `http://127.0.0.1:${temporalPort}/`,
    ]) {
      const refused = await run(reach(url));
      assert.equal(refused.status, 'failed', url);
      assert.equal(refused.error?.code, 'HTTP_BLOCKED_ADDRESS', url);
    }
    const hello = readFileSync(join(root, 'examples', 'hello.json'), 'utf8').replace(
      '127.0.0.1:3000',
      `127.0.0.1:${apiPort}`,
    );
    const greeted = await run(JSON.parse(hello));
    assert.equal(greeted.status, 'completed', JSON.stringify(greeted.error));
    assert.deepEqual(greeted.result, { greeting: 'Hello, Ada!', apiStatus: 'ok' });
  });

  it('stops at its next start what a dev killed together with its watchdog left running', async () => {
    const dev = devs.at(-1);
    assert.ok(dev);
    const left = serversOn(dataDir);
    const [pid, watchdog] = [devProcess(dev), watchdogOf(dataDir)];
    assert.ok(pid && watchdog, 'dev and its watchdog run');
    process.kill(watchdog, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await dev.exited;
    assert.ok([...left.temporal, ...left.postgres].every(running), 'with no watchdog the servers outlive dev');

    const next = startDev(env);
    devs.push(next);
    await healthy(next);
    assert.ok(![...left.temporal, ...left.postgres].some(running), 'the leftovers were stopped');
    const now = serversOn(dataDir);
    assert.equal(now.temporal.length, 1);
    assert.equal(now.postgres.length, 1);
  });

  it('Ctrl-C stops everything it started', async () => {
    const dev = devs.at(-1);
    assert.ok(dev?.launcher.pid);
    process.kill(-dev.launcher.pid, 'SIGINT'); // what a terminal sends to its foreground job
    await dev.exited;
    await waitFor(
      'the servers to stop',
      async () => (serversOn(dataDir).temporal.length + serversOn(dataDir).postgres.length === 0 ? true : undefined),
      60_000,
    );
    await waitFor('the watchdog to exit', async () => (watchdogOf(dataDir) === undefined ? true : undefined), 60_000);
  });

  it('refuses to start with one line naming a port in use and the process holding it', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(apiPort, '127.0.0.1', resolve));
    try {
      const dev = startDev(env);
      devs.push(dev);
      assert.equal(await dev.exited, 1);
      const lines = dev.stderr().trimEnd().split('\n');
      assert.equal(lines.length, 1, dev.stderr());
      assert.match(
        lines[0] ?? '',
        new RegExp(
          `^npm run dev: port ${apiPort} for the API \\(API_PORT\\) is in use by pid ${process.pid} \\(\\S*node`,
        ),
      );
      assert.deepEqual(serversOn(dataDir), { temporal: [], postgres: [] }, 'nothing was started');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

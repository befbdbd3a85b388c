import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { mintToken } from '../../src/shared/tokens.js';
import { useStack } from '../helpers/use-stack.js';

const CLI_SECRET = 'cli-commands-secret-that-is-long-enough-for-hs256';

/** The package's `bin` (what `npm i -g` links as `mz`). */
export const MZ_BIN = fileURLToPath(new URL('../../bin/mz.js', import.meta.url));

export interface MzResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mz` as a process with only the environment given (plus PATH), within two minutes. */
export function mz(
  args: string[],
  env: Record<string, string>,
  opts: { input?: string; cwd?: string } = {},
): Promise<MzResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MZ_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The JSON `mz --json` printed. */
export function json<T = unknown>(r: MzResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`mz printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** A suite's stack served over real HTTP for `mz`, with an admin token of tenant acme and a home of its own; `cli` is filled before the tests. */
export function useCliStack() {
  const suite = useStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: CLI_SECRET } });
  const cli = { dir: '', url: '', token: '', env: {} as Record<string, string> };
  let server: ServerType | undefined;
  before(async () => {
    server = serve({ fetch: suite.stack.app.fetch, hostname: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    cli.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cli.dir = await mkdtemp(join(tmpdir(), 'mz-commands-'));
    cli.token = await mintToken(CLI_SECRET, { tenant: 'acme', scopes: ['admin'] });
    cli.env = { MZ_URL: cli.url, MZ_TOKEN: cli.token, HOME: cli.dir, XDG_CONFIG_HOME: join(cli.dir, 'config') };
  });
  after(async () => {
    server?.close();
    if (cli.dir) await rm(cli.dir, { recursive: true, force: true });
  });
  const as = (method: string, path: string, body?: unknown) =>
    suite.stack.call(method, path, body, { authorization: `Bearer ${cli.token}` });
  const create = async (definition: unknown) => {
    const res = await as('POST', '/v1/workflows', definition);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const start = async (workflowId: string, payload: unknown = {}) =>
    (await as('POST', `/v1/workflows/${workflowId}/runs`, payload)).body.runId as string;
  return { suite, cli, as, create, start };
}

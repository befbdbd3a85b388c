import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { keepOutput, untilStarted } from './patience.js';
import { freePort } from './ports.js';
import { skipUnlessCi } from './skip.js';

/** Where scripts/secret-store-servers.sh puts Vault (built from its Go module) and moto (from PyPI). */
export const VAULT_BIN = fileURLToPath(new URL('../../.tools/vault-v1.13.0/vault', import.meta.url));
export const MOTO_BIN = fileURLToPath(new URL('../../.tools/moto/bin/moto_server', import.meta.url));

/** The secret-store tests' `skip`: why they cannot run here; never on CI, where they fail instead. */
export const secretStoreServersSkipReason = (): string | false =>
  skipUnlessCi(
    existsSync(VAULT_BIN) && existsSync(MOTO_BIN)
      ? undefined
      : 'Vault or moto is not provisioned (run scripts/secret-store-servers.sh)',
  );

/** A running server the test started, and how to stop it (it alone: by its own process). */
export interface Server {
  url: string;
  stop(): Promise<void>;
}

async function started(name: string, child: ChildProcess, url: string, ready: () => Promise<boolean>) {
  try {
    await untilStarted(name, ready, { child, output: keepOutput(child) });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

const answers = (url: string) => async () => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
};

/**
 * `vault server -dev` on a free loopback port: in memory, unsealed, KV v2 mounted at `secret/`,
 * root token `rootToken`. A given port restarts a server where one was (a store that was down).
 */
export async function startVault(rootToken: string, port?: number): Promise<Server & { port: number }> {
  const p = port ?? (await freePort());
  const child = spawn(
    VAULT_BIN,
    ['server', '-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${p}`, '-dev-no-store-token'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VAULT_ADDR: `http://127.0.0.1:${p}` } },
  );
  const url = `http://127.0.0.1:${p}`;
  return { ...(await started('vault', child, url, answers(`${url}/v1/sys/health`))), port: p };
}

/** moto's server mode (the usual local AWS endpoint) on a free loopback port. */
export async function startMoto(port?: number): Promise<Server & { port: number }> {
  const p = port ?? (await freePort());
  const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(p)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = `http://127.0.0.1:${p}`;
  return { ...(await started('moto_server', child, url, answers(`${url}/moto-api/`))), port: p };
}

/** Calls Vault's HTTP API with a token; answers the parsed body. */
export async function vaultCall(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`vault ${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

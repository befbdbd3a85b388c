import { readFile } from 'node:fs/promises';
import { fetch, type Dispatcher } from 'undici';
import { AppError } from '../../shared/errors.js';
import { blockedCause } from '../http/guard.js';
import { credentialName, type VaultStoreConfig } from './config.js';
import { secretAccessDenied, secretNotFound, secretStoreUnavailable } from './failures.js';

/** Where Kubernetes mounts a pod's service-account token. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const TIMEOUT_MS = 10_000;
const MAX_BODY = 1024 * 1024;

/** What a Vault store needs besides its config. */
export interface VaultDeps {
  dispatcher: Dispatcher;
  /** A credential from the engine's own store (the tenant's `$secret('name')`). */
  credential: (name: string) => Promise<string>;
  /** Tokens obtained by AppRole or Kubernetes login, per store, until their lease runs out. */
  logins: Map<string, { token: string; until: number }>;
  /** The cache key of this store's login. */
  loginKey: string;
}

/**
 * A Vault KV v2 store over its HTTP API: signs in (token, AppRole or Kubernetes), reads one
 * secret's fields, optionally at a pinned version. A login token refused with 403 is dropped and
 * the login done once more.
 * @example await vaultStore(config, deps).read('app/db', '3') // { password: '…' }
 */
export function vaultStore(config: VaultStoreConfig, deps: VaultDeps) {
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['x-vault-token'] = token;
    if (config.namespace) headers['x-vault-namespace'] = config.namespace;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(`${config.address.replace(/\/+$/, '')}/v1/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        dispatcher: deps.dispatcher,
      });
      return { status: res.status, body: parseBody(await boundedText(res.body)) };
    } catch (err) {
      const blocked = blockedCause(err);
      if (blocked) throw blocked;
      throw secretStoreUnavailable(`Vault at ${new URL(config.address).host} could not be reached`, err);
    }
  };

  const login = async (): Promise<{ token: string; fromCache: boolean }> => {
    const { auth } = config;
    if (auth.type === 'token') return { token: await deps.credential(credentialName(auth.token)), fromCache: false };
    const cached = deps.logins.get(deps.loginKey);
    if (cached && cached.until > Date.now()) return { token: cached.token, fromCache: true };
    const body =
      auth.type === 'approle'
        ? { role_id: auth.roleId, secret_id: await deps.credential(credentialName(auth.secretId)) }
        : { role: auth.role, jwt: (await readServiceAccountToken()).trim() };
    const res = await call('POST', `auth/${auth.mount}/login`, undefined, body);
    failOn(res, `the ${auth.type} login at auth/${auth.mount}`);
    const token = field(res.body, 'auth', 'client_token');
    if (typeof token !== 'string')
      throw secretAccessDenied(`the ${auth.type} login at auth/${auth.mount} answered no token`);
    const lease = Number(field(res.body, 'auth', 'lease_duration')) || 60;
    deps.logins.set(deps.loginKey, { token, until: Date.now() + lease * 800 });
    return { token, fromCache: false };
  };

  /** Calls with the store's token; a cached login refused with 403 is done again once. */
  const authorised = async (method: string, path: string) => {
    const first = await login();
    const res = await call(method, path, first.token);
    if (res.status !== 403 || !first.fromCache) return res;
    deps.logins.delete(deps.loginKey);
    return call(method, path, (await login()).token);
  };

  return {
    /** The fields of the secret at `path` (the full path under the mount). */
    async read(path: string, version?: string): Promise<Record<string, unknown>> {
      if (version !== undefined && !/^[1-9]\d{0,9}$/.test(version))
        throw secretNotFound(`a Vault KV version is a positive number, not '${version}'`);
      const query = version === undefined ? '' : `?version=${version}`;
      const res = await authorised('GET', `${config.mount}/data/${encodePath(path)}${query}`);
      failOn(res, `${config.mount}/${path}`);
      const data = field(res.body, 'data', 'data');
      if (typeof data !== 'object' || data === null || Array.isArray(data))
        throw secretNotFound(`${config.mount}/${path} holds no data (deleted or destroyed)`);
      return Object.fromEntries(Object.entries(data));
    },
    /** Signs in and reads a path under the prefix that need not exist: reachable and permitted. */
    async probe(path: string): Promise<void> {
      const res = await authorised('GET', `${config.mount}/data/${encodePath(path)}`);
      if (res.status !== 404) failOn(res, `${config.mount}/${path}`);
    },
  };
}

function failOn(res: { status: number; body: unknown }, what: string): void {
  if (res.status >= 200 && res.status < 300) return;
  const reason = vaultErrors(res.body);
  if (res.status === 404) throw secretNotFound(`${what} does not exist in Vault`);
  if (res.status === 401 || res.status === 403 || res.status === 400)
    throw secretAccessDenied(`Vault refused ${what} (${res.status}${reason ? `: ${reason}` : ''})`);
  throw secretStoreUnavailable(`Vault answered ${res.status} for ${what}${reason ? `: ${reason}` : ''}`);
}

async function readServiceAccountToken(): Promise<string> {
  try {
    return await readFile(SERVICE_ACCOUNT_TOKEN, 'utf8');
  } catch (err) {
    throw new AppError({
      code: 'SECRET_ACCESS_DENIED',
      message: `Kubernetes auth needs the service-account token at ${SERVICE_ACCOUNT_TOKEN}, which this worker does not have`,
      httpStatus: 403,
      cause: err,
    });
  }
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** At most MAX_BODY bytes of a body (the rest is not read); undefined past that. */
async function boundedText(body: AsyncIterable<Uint8Array> | null): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function field(value: unknown, ...keys: string[]): unknown {
  let v = value;
  for (const k of keys) v = typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined;
  return v;
}

/** Vault's `errors` array, cut short (Vault's messages name paths and policies, never values). */
function vaultErrors(body: unknown): string {
  const errors = field(body, 'errors');
  return Array.isArray(errors)
    ? errors
        .filter((e) => typeof e === 'string')
        .join('; ')
        .slice(0, 300)
    : '';
}

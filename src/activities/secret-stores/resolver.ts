import { parseSecretReference, storePath } from '../../definitions/secret-reference.js';
import type { SecretStoreRecord, SecretStoresRepo } from '../../db/secret-stores-repo.js';
import type { SecretsRepo } from '../../db/secrets-repo.js';
import type { Config } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import { createHostGuard } from '../host-guard.js';
import { createGuard } from '../http/guard.js';
import type { Reserved } from '../reserved.js';
import { awsStore } from './aws.js';
import { ambientProblem, SecretStoreSchema, type AmbientPolicy, type SecretStore } from './config.js';
import { naming, secretAccessDenied, secretNotFound } from './failures.js';
import { vaultStore } from './vault.js';

/** Where connectors resolve `$secret('…')`: the engine's own store, and the tenant's external ones. */
export interface SecretSource {
  reveal(tenantId: string, reference: string): Promise<string>;
  /**
   * Drops the cached values of these references that were read before `before` (ms since the
   * epoch); answers whether there were any, i.e. whether a fresh read may give something new.
   */
  invalidate?(tenantId: string, references: readonly string[], before: number): boolean;
}

export interface SecretResolverDeps {
  builtIn: Pick<SecretsRepo, 'reveal'>;
  stores: Pick<SecretStoresRepo, 'find'>;
  /** SECRET_CACHE_TTL in ms; 0 keeps nothing. */
  ttlMs: number;
  allowlist: string;
  reserved?: Reserved;
  ambient: AmbientPolicy;
}

const MAX_ENTRIES = 10_000;

/**
 * Resolves references per tenant: a bare name from the sealed store, `store:path[@version]#field`
 * from the tenant's Vault or AWS store, read at the store's `pathPrefix` + path. The fields of a
 * secret are cached per process for `ttlMs` (bounded in entries), so a rotated secret is read
 * again at the latest after the TTL, or at once when `invalidate` drops it.
 * @example await createSecretResolver(deps).reveal('acme', 'vault-main:app/db#password')
 */
export function createSecretResolver(deps: SecretResolverDeps): SecretSource {
  const cache = new Map<string, { fields: Record<string, unknown>; readAt: number }>();
  const logins = new Map<string, { token: string; until: number }>();
  const dispatcher = createGuard(deps.allowlist, deps.reserved).dispatcher;
  const guard = createHostGuard(deps.allowlist, deps.reserved);
  const credential = (tenantId: string) => (name: string) => deps.builtIn.reveal(tenantId, name);

  const storeOf = async (tenantId: string, name: string): Promise<{ store: SecretStore; row: SecretStoreRecord }> => {
    const row = await deps.stores.find(tenantId, name);
    if (!row) throw secretNotFound(`this tenant has no secret store '${name}'`);
    const parsed = SecretStoreSchema.safeParse({ name: row.name, type: row.type, config: row.config });
    if (!parsed.success) throw secretAccessDenied(`secret store '${name}' is not a valid store any more; replace it`);
    const problem = ambientProblem(parsed.data, tenantId, deps.ambient);
    if (problem) throw secretAccessDenied(problem);
    return { store: parsed.data, row };
  };

  const read = async (tenantId: string, store: SecretStore, row: SecretStoreRecord, path: string, version?: string) => {
    const full = storePath(store.config.pathPrefix, path);
    if (store.type === 'aws')
      return awsStore(store.config, { guard, credential: credential(tenantId) }).read(full, version);
    const loginKey = `${tenantId}\u0000${row.name}\u0000${row.updatedAt.getTime()}`;
    return vaultStore(store.config, { dispatcher, credential: credential(tenantId), logins, loginKey }).read(
      full,
      version,
    );
  };

  const remember = (key: string, fields: Record<string, unknown>) => {
    if (deps.ttlMs <= 0) return;
    while (cache.size >= MAX_ENTRIES) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    cache.set(key, { fields, readAt: Date.now() });
  };

  return {
    async reveal(tenantId, reference) {
      const parsed = parseSecretReference(reference);
      if (!parsed.ok)
        throw new AppError({
          code: 'INVALID_SECRET_REFERENCE',
          message: `$secret('${reference.slice(0, 200)}'): ${parsed.problem}`,
        });
      const ref = parsed.ref;
      if (ref.kind === 'builtin') return deps.builtIn.reveal(tenantId, ref.name);
      try {
        const { store, row } = await storeOf(tenantId, ref.store);
        const key = cacheKey(tenantId, ref.store, ref.path, ref.version, row.updatedAt);
        const hit = cache.get(key);
        const fields =
          hit && Date.now() - hit.readAt < deps.ttlMs
            ? hit.fields
            : await read(tenantId, store, row, ref.path, ref.version);
        if (fields !== hit?.fields) remember(key, fields);
        const value = fields[ref.field];
        if (value === undefined || value === null) throw secretNotFound(`the secret has no field '${ref.field}'`);
        return typeof value === 'string' ? value : JSON.stringify(value);
      } catch (err) {
        throw naming(reference, err);
      }
    },

    invalidate(tenantId, references, before) {
      let dropped = false;
      for (const reference of references) {
        const parsed = parseSecretReference(reference);
        if (!parsed.ok || parsed.ref.kind !== 'store') continue;
        const prefix = cacheKey(tenantId, parsed.ref.store, parsed.ref.path, parsed.ref.version);
        for (const [key, entry] of cache)
          if (key.startsWith(prefix) && entry.readAt < before) {
            cache.delete(key);
            dropped = true;
          }
      }
      return dropped;
    },
  };
}

/** The cache key of a secret; without `updatedAt`, the prefix every version of the store's row shares. */
const cacheKey = (tenantId: string, store: string, path: string, version: string | undefined, updatedAt?: Date) =>
  [tenantId, store, path, version ?? '', updatedAt === undefined ? '' : String(updatedAt.getTime())].join('\u0000');

/**
 * Proves a store works: signs in and reads a path under its prefix that need not exist.
 * @example await testSecretStore(store, 'acme', deps) // { reachable: true, authenticated: true }
 */
export async function testSecretStore(
  store: SecretStore,
  tenantId: string,
  deps: Omit<SecretResolverDeps, 'stores' | 'ttlMs'>,
): Promise<{ reachable: true; authenticated: true }> {
  const problem = ambientProblem(store, tenantId, deps.ambient);
  if (problem) throw secretAccessDenied(problem);
  const credential = (name: string) => deps.builtIn.reveal(tenantId, name);
  const probe = storePath(store.config.pathPrefix, 'mini-zaps-store-test');
  if (store.type === 'aws')
    await awsStore(store.config, { guard: createHostGuard(deps.allowlist, deps.reserved), credential }).probe(probe);
  else
    await vaultStore(store.config, {
      dispatcher: createGuard(deps.allowlist, deps.reserved).dispatcher,
      credential,
      logins: new Map(),
      loginKey: '',
    }).probe(probe);
  return { reachable: true, authenticated: true };
}

/** The resolver's settings from configuration (SECRET_CACHE_TTL, SECRET_STORES_AMBIENT_*, HTTP_ALLOWLIST). */
export const secretStoreSettings = (
  c: Pick<
    Config,
    'SECRET_CACHE_TTL' | 'SECRET_STORES_AMBIENT_PREFIX' | 'SECRET_STORES_AMBIENT_VAULTS' | 'HTTP_ALLOWLIST'
  >,
  reserved?: Reserved,
): Omit<SecretResolverDeps, 'builtIn' | 'stores'> => ({
  ttlMs: c.SECRET_CACHE_TTL * 1000,
  allowlist: c.HTTP_ALLOWLIST,
  reserved,
  ambient: {
    prefix: c.SECRET_STORES_AMBIENT_PREFIX,
    vaults: c.SECRET_STORES_AMBIENT_VAULTS.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((s) => URL.parse(s)?.origin ?? s),
  },
});

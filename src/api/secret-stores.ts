import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ambientProblem, SecretStoreSchema, type SecretStore } from '../activities/secret-stores/config.js';
import { secretStoreSettings, testSecretStore } from '../activities/secret-stores/resolver.js';
import { referencedStores } from '../definitions/secret-reference.js';
import type { SecretStoreRecord, SecretStoresRepo } from '../db/secret-stores-repo.js';
import { AppError } from '../shared/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json, problem } from './schemas.js';

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const NameParamSchema = z.object({
  name: z
    .string()
    .regex(NAME)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'vault-main' }),
});
const ConfigSchema = z.record(z.string(), z.unknown()).openapi({
  description: "The store's settings; credentials are $secret('name') references to stored secrets",
  example: {
    address: 'https://vault.example.com:8200',
    mount: 'secret',
    pathPrefix: 'zaps/acme',
    auth: { type: 'approle', roleId: 'zaps-acme', secretId: "$secret('vault_secret_id')" },
  },
});
const StoreBodySchema = z
  .object({
    name: z.string().regex(NAME, 'a store name is 1-100 characters of A-Z, a-z, 0-9, _ . -'),
    type: z.enum(['vault', 'aws']),
    config: ConfigSchema,
  })
  .openapi('SecretStoreInput');
const ReplaceBodySchema = StoreBodySchema.omit({ name: true });
const StoreSchema = z
  .object({
    name: z.string(),
    type: z.enum(['vault', 'aws']),
    config: ConfigSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('SecretStore');
const TestResultSchema = z
  .object({
    ok: z.boolean(),
    details: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
  })
  .openapi('SecretStoreTestResult');

const shown = (r: SecretStoreRecord) => ({
  name: r.name,
  type: r.type,
  config: r.config,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** A store as sent, checked: its schema (credentials only by reference, no `..` in prefixes) and the ambient-identity rules. */
function checkStore(deps: ApiDeps, tenantId: string, body: unknown): SecretStore {
  const parsed = SecretStoreSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      pointer: `/${i.path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`,
      message: i.message,
    }));
    throw new AppError({
      code: 'INVALID_SECRET_STORE',
      message: `the secret store has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      httpStatus: 400,
      details: problems,
    });
  }
  const problem = ambientProblem(parsed.data, tenantId, secretStoreSettings(deps.config).ambient);
  if (problem)
    throw new AppError({
      code: 'INVALID_SECRET_STORE',
      message: problem,
      httpStatus: 400,
      details: [{ pointer: '/config/auth', message: problem }],
    });
  return parsed.data;
}

/**
 * Refuses a saved definition or connection whose literal `$secret('store:…')` references name a
 * store the tenant does not have (another tenant's is not the tenant's).
 */
export async function assertKnownStores(
  stores: Pick<SecretStoresRepo, 'missing'>,
  tenantId: string,
  value: unknown,
): Promise<void> {
  const missing = await stores.missing(tenantId, [...referencedStores(value)].slice(0, 100));
  if (missing.length === 0) return;
  throw new AppError({
    code: 'UNKNOWN_SECRET_STORE',
    message: `$secret() names secret stores this tenant does not have: ${missing.join(', ')}`,
    httpStatus: 400,
    details: { stores: missing },
  });
}

/**
 * `/v1/secret-stores`: a tenant's external secret stores (HashiCorp Vault KV v2, AWS Secrets
 * Manager), read by `$secret('store:path#field')`. Admin only. Credentials are references to the
 * sealed store, so nothing here holds or answers a secret.
 */
export function secretStoresRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['secret-stores'],
      summary: 'Add a secret store',
      ...requires('admin'),
      request: { body: { content: { 'application/json': { schema: StoreBodySchema } }, required: true } },
      responses: { 201: json(StoreSchema, 'Stored'), 409: problem('A store of that name exists'), ...errorResponses },
    }),
    async (c) => {
      const store = checkStore(deps, c.var.tenantId, c.req.valid('json'));
      return c.json(shown(await deps.secretStores.create(c.var.tenantId, store)), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['secret-stores'],
      summary: 'List secret stores',
      ...requires('admin'),
      responses: { 200: json(z.object({ items: z.array(StoreSchema) }), 'Stores'), ...errorResponses },
    }),
    async (c) => c.json({ items: (await deps.secretStores.list(c.var.tenantId)).map(shown) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{name}',
      tags: ['secret-stores'],
      summary: 'Read a secret store',
      ...requires('admin'),
      request: { params: NameParamSchema },
      responses: { 200: json(StoreSchema, 'The store'), ...errorResponses },
    }),
    async (c) => {
      const name = c.req.valid('param').name;
      const row = await deps.secretStores.find(c.var.tenantId, name);
      if (!row)
        throw new AppError({
          code: 'SECRET_STORE_NOT_FOUND',
          message: `secret store '${name}' does not exist`,
          httpStatus: 404,
        });
      return c.json(shown(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/{name}',
      tags: ['secret-stores'],
      summary: 'Store or replace a secret store',
      ...requires('admin'),
      request: {
        params: NameParamSchema,
        body: { content: { 'application/json': { schema: ReplaceBodySchema } }, required: true },
      },
      responses: { 200: json(StoreSchema, 'Replaced'), 201: json(StoreSchema, 'Stored'), ...errorResponses },
    }),
    async (c) => {
      const { type, config } = c.req.valid('json');
      const store = checkStore(deps, c.var.tenantId, { name: c.req.valid('param').name, type, config });
      const { record, created } = await deps.secretStores.replace(c.var.tenantId, store);
      return created ? c.json(shown(record), 201) : c.json(shown(record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{name}',
      tags: ['secret-stores'],
      summary: 'Delete a secret store',
      ...requires('admin'),
      request: { params: NameParamSchema },
      responses: { 204: { description: 'Deleted' }, ...errorResponses },
    }),
    async (c) => {
      await deps.secretStores.remove(c.var.tenantId, c.req.valid('param').name);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{name}/test',
      tags: ['secret-stores'],
      summary: 'Check that a store answers and accepts its credentials (signs in, reads under its prefix)',
      ...requires('admin'),
      request: { params: NameParamSchema },
      responses: {
        200: json(TestResultSchema, 'What the check found; a failure is { ok: false, error }'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const name = c.req.valid('param').name;
      const row = await deps.secretStores.find(c.var.tenantId, name);
      if (!row)
        throw new AppError({
          code: 'SECRET_STORE_NOT_FOUND',
          message: `secret store '${name}' does not exist`,
          httpStatus: 404,
        });
      try {
        const store = checkStore(deps, c.var.tenantId, { name: row.name, type: row.type, config: row.config });
        const details = await testSecretStore(store, c.var.tenantId, {
          builtIn: deps.secrets,
          ...secretStoreSettings(deps.config, deps.reserved),
        });
        return c.json({ ok: true, details }, 200);
      } catch (err) {
        const code = err instanceof AppError ? err.code : 'SECRET_STORE_UNAVAILABLE';
        const message = err instanceof Error ? err.message : String(err);
        return c.json(
          { ok: false, error: { code, message, retryable: !(err instanceof AppError) || err.retryable } },
          200,
        );
      }
    },
  );

  return app;
}

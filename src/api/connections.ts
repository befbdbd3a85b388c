import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { checkStoredConnection, testConnection } from '../activities/connection-check.js';
import type { ConnectionRecord } from '../db/connections-repo.js';
import { apiConnectorDeps } from './connector-deps.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { assertKnownStores } from './secret-stores.js';
import { errorResponses, json, problem } from './schemas.js';

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const NameParamSchema = z.object({
  name: z
    .string()
    .regex(NAME)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'mailer' }),
});
const ConfigSchema = z.record(z.string(), z.unknown()).openapi({
  description: "The kind's settings; secret fields are $secret('name') references",
  example: { host: 'smtp.example.com', port: 587, user: 'mailer', password: "$secret('smtp_password')" },
});
const RateLimitBodySchema = z
  .object({
    key: z.string().min(1).max(200).optional(),
    perSecond: z.number().positive().max(10_000).optional(),
    perMinute: z.number().positive().max(600_000).optional(),
    concurrency: z.int().min(1).max(1000).optional(),
  })
  .strict()
  .refine((r) => r.perSecond === undefined || r.perMinute === undefined, {
    message: 'a rate limit sets at most one of perSecond and perMinute',
  })
  .refine((r) => r.perSecond !== undefined || r.perMinute !== undefined || r.concurrency !== undefined, {
    message: 'a rate limit sets perSecond, perMinute or concurrency',
  })
  .openapi({
    description:
      'How fast, and how many at once, the steps using this connection may run, across every run and worker; a throttled step waits',
  });
const ConnectionBodySchema = z
  .object({
    name: z.string().regex(NAME, 'a connection name is 1-100 characters of A-Z, a-z, 0-9, _ . -'),
    type: z.string().min(1).max(40),
    config: ConfigSchema,
    rateLimit: RateLimitBodySchema.optional(),
  })
  .openapi('ConnectionInput');
const ReplaceBodySchema = ConnectionBodySchema.omit({ name: true });
const ConnectionSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    config: ConfigSchema,
    rateLimit: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Connection');
const TestResultSchema = z
  .object({
    ok: z.boolean(),
    details: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
  })
  .openapi('ConnectionTestResult');

const shown = (r: ConnectionRecord) => ({
  name: r.name,
  type: r.type,
  config: r.config,
  rateLimit: r.rateLimit,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/**
 * `/v1/connections`: a tenant's stored connections (what n8n calls credentials). Secret fields
 * hold `$secret('name')` references, so nothing here ever holds or answers a secret's value.
 */
export function connectionsRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['connections'],
      summary: 'Store a connection',
      ...requires('workflows:write'),
      request: { body: { content: { 'application/json': { schema: ConnectionBodySchema } }, required: true } },
      responses: {
        201: json(ConnectionSchema, 'Stored'),
        409: problem('A connection of that name exists'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const config = checkStoredConnection(body.type, body.config);
      await assertKnownStores(deps.secretStores, c.var.tenantId, config);
      const record = await deps.connections.create(c.var.tenantId, {
        name: body.name,
        type: body.type,
        config,
        rateLimit: body.rateLimit,
      });
      return c.json(shown(record), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['connections'],
      summary: 'List connections',
      ...requires('workflows:read'),
      responses: {
        200: json(z.object({ items: z.array(ConnectionSchema), nextCursor: z.null() }), 'Connections'),
        ...errorResponses,
      },
    }),
    async (c) => c.json({ items: (await deps.connections.list(c.var.tenantId)).map(shown), nextCursor: null }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{name}',
      tags: ['connections'],
      summary: 'Read a connection',
      ...requires('workflows:read'),
      request: { params: NameParamSchema },
      responses: { 200: json(ConnectionSchema, 'The connection'), ...errorResponses },
    }),
    async (c) => c.json(shown(await deps.connections.get(c.var.tenantId, c.req.valid('param').name)), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/{name}',
      tags: ['connections'],
      summary: 'Store or replace a connection',
      ...requires('workflows:write'),
      request: {
        params: NameParamSchema,
        body: { content: { 'application/json': { schema: ReplaceBodySchema } }, required: true },
      },
      responses: { 200: json(ConnectionSchema, 'Replaced'), 201: json(ConnectionSchema, 'Stored'), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const config = checkStoredConnection(body.type, body.config);
      await assertKnownStores(deps.secretStores, c.var.tenantId, config);
      const { record, created } = await deps.connections.replace(c.var.tenantId, {
        name: c.req.valid('param').name,
        type: body.type,
        config,
        rateLimit: body.rateLimit,
      });
      return created ? c.json(shown(record), 201) : c.json(shown(record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{name}',
      tags: ['connections'],
      summary: 'Delete a connection',
      ...requires('workflows:write'),
      request: { params: NameParamSchema },
      responses: { 204: { description: 'Deleted' }, ...errorResponses },
    }),
    async (c) => {
      await deps.connections.remove(c.var.tenantId, c.req.valid('param').name);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{name}/test',
      tags: ['connections'],
      summary: 'Check that a connection works (SMTP handshake, SELECT 1, a metadata request)',
      ...requires('workflows:write'),
      request: { params: NameParamSchema },
      responses: {
        200: json(TestResultSchema, 'What the check found; a failure is { ok: false, error }'),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await testConnection(c.var.tenantId, c.req.valid('param').name, apiConnectorDeps(deps)), 200),
  );

  return app;
}

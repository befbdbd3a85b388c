import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json } from './schemas.js';

const NameSchema = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'crm_token' }),
});

/**
 * `/v1/secrets`: write-only. Values are sealed with AES-256-GCM and come out only inside the
 * activity that uses `$secret('name')`; listing shows names and times, never values.
 */
export function secretsRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'put',
      path: '/{name}',
      tags: ['secrets'],
      summary: 'Store or replace a secret',
      ...requires('secrets:write'),
      request: {
        params: NameSchema,
        body: {
          content: { 'application/json': { schema: z.object({ value: z.string().min(1).max(65_536) }) } },
          required: true,
        },
      },
      responses: { 200: json(z.object({ name: z.string(), created: z.boolean() }), 'Stored'), ...errorResponses },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { created } = await deps.secrets.put(c.var.tenantId, name, c.req.valid('json').value);
      c.var.logger.info({ secret: name, created }, 'secret stored');
      return c.json({ name, created }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['secrets'],
      summary: 'List secret names (never values)',
      ...requires('secrets:write'),
      responses: {
        200: json(
          z.object({
            items: z.array(
              z.object({ name: z.string(), keyId: z.string(), createdAt: z.string(), updatedAt: z.string() }),
            ),
          }),
          'Names',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const items = await deps.secrets.list(c.var.tenantId);
      return c.json(
        {
          items: items.map((s) => ({
            ...s,
            createdAt: s.createdAt.toISOString(),
            updatedAt: s.updatedAt.toISOString(),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{name}',
      tags: ['secrets'],
      summary: 'Delete a secret',
      ...requires('secrets:write'),
      request: { params: NameSchema },
      responses: { 204: { description: 'Deleted' }, ...errorResponses },
    }),
    async (c) => {
      await deps.secrets.remove(c.var.tenantId, c.req.valid('param').name);
      return c.body(null, 204);
    },
  );
  return app;
}

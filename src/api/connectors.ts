import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { connectorCatalogue } from '../activities/catalogue.js';
import type { ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json } from './schemas.js';

const CatalogueEntrySchema = z
  .object({
    type: z.string(),
    description: z.string(),
    configSchema: z.record(z.string(), z.unknown()),
    defaults: z.record(z.string(), z.unknown()),
    example: z.record(z.string(), z.unknown()),
    connection: z
      .object({
        type: z.string(),
        required: z.boolean(),
        description: z.string(),
        configSchema: z.record(z.string(), z.unknown()),
        example: z.record(z.string(), z.unknown()),
      })
      .optional(),
  })
  .openapi('Connector');

/** `GET /v1/connectors`: the catalogue of connector step types, derived from the connector registry. */
export function connectorsRoutes() {
  const app = new OpenAPIHono<ApiEnv>();
  const items = connectorCatalogue();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['connectors'],
      summary: 'Every connector step type: JSON Schema of its config, defaults, description, example, connection',
      ...requires('workflows:read'),
      responses: { 200: json(z.object({ items: z.array(CatalogueEntrySchema) }), 'The catalogue'), ...errorResponses },
    }),
    (c) => c.json({ items }, 200),
  );
  return app;
}

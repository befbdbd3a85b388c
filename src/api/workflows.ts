import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { registry } from '../activities/registry.js';
import { toMermaid } from '../definitions/diagram.js';
import { definitionJsonSchema } from '../definitions/schema.js';
import { validateDefinition } from '../definitions/validate.js';
import { invalidDefinition } from '../shared/errors.js';
import { deleteWorkflowTriggers, triggerDeps } from '../triggers/trigger-changes.js';
import { apiTopicAccess } from './connector-deps.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { assertStepTopics } from './kafka-topics.js';
import { requires } from './middleware/scopes.js';
import { assertFailureTarget } from './settings.js';
import { assertKnownStores } from './secret-stores.js';
import {
  CreatedSchema,
  DefinitionBodySchema,
  errorResponses,
  IdParamSchema,
  json,
  PageQuerySchema,
  problem,
} from './schemas.js';

const WorkflowSchema = z
  .object({
    id: z.string(),
    key: z.string().nullable().openapi({ description: 'The stable name `mz apply` files give it' }),
    name: z.string(),
    version: z.number().int(),
    definition: z.unknown(),
    createdAt: z.string(),
    archivedAt: z.string().nullable(),
  })
  .openapi('Workflow');
const WorkflowSummarySchema = z
  .object({
    id: z.string(),
    key: z.string().nullable(),
    name: z.string(),
    latestVersion: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('WorkflowSummary');
/** A workflow's key: a stable name for files that describe it (`mz apply`). */
const KeySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a key is 1-100 characters of A-Z, a-z, 0-9, _ . - (not first)')
  .openapi({ example: 'welcome-new-user' });
const ValidationSchema = z.object({ valid: z.literal(true) }).openapi('ValidationResult');
const body = { body: { content: { 'application/json': { schema: DefinitionBodySchema } }, required: true } };

function parseDefinition(raw: unknown) {
  const result = validateDefinition(raw, registry);
  if (!result.ok) throw invalidDefinition(result.problems);
  return result.definition;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** `/v1/workflows`: definitions and their immutable versions. */
export function workflowsRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  const topics = apiTopicAccess(deps);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['workflows'],
      summary: 'Create a workflow (validated)',
      ...requires('workflows:write'),
      request: {
        ...body,
        query: z.object({
          key: KeySchema.optional().openapi({ description: 'Its key; refused while a live workflow holds it' }),
        }),
      },
      responses: { 201: json(CreatedSchema, 'Created'), 409: problem('WORKFLOW_KEY_TAKEN'), ...errorResponses },
    }),
    async (c) => {
      const definition = parseDefinition(c.req.valid('json'));
      await assertStepTopics(topics, c.var.tenantId, definition);
      if (definition.onFailure)
        await assertFailureTarget(deps.workflows, c.var.tenantId, definition.onFailure, '/onFailure');
      await assertKnownStores(deps.secretStores, c.var.tenantId, definition.steps);
      const created = await deps.workflows.create(c.var.tenantId, definition, c.req.valid('query').key);
      c.var.logger.info({ workflowId: created.id }, 'workflow created');
      return c.json(created, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/validate',
      tags: ['workflows'],
      summary: 'Validate a definition without saving it',
      ...requires('workflows:read'),
      request: body,
      responses: { 200: json(ValidationSchema, 'Valid'), ...errorResponses },
    }),
    (c) => {
      parseDefinition(c.req.valid('json'));
      return c.json({ valid: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['workflows'],
      summary: 'List workflows',
      ...requires('workflows:read'),
      request: {
        query: PageQuerySchema.extend({
          key: KeySchema.optional().openapi({ description: 'only the live workflow with this key' }),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(WorkflowSummarySchema), nextCursor: z.string().nullable() }), 'A page'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { items, nextCursor } = await deps.workflows.list(c.var.tenantId, c.req.valid('query'));
      return c.json(
        {
          items: items.map((w) => ({
            id: w.id,
            key: w.key,
            name: w.name,
            latestVersion: w.latestVersion,
            createdAt: w.createdAt.toISOString(),
            updatedAt: w.updatedAt.toISOString(),
          })),
          nextCursor,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags: ['workflows'],
      summary: 'Read the latest version',
      ...requires('workflows:read'),
      request: { params: IdParamSchema },
      responses: { 200: json(WorkflowSchema, 'The workflow'), ...errorResponses },
    }),
    async (c) => {
      const wf = await deps.workflows.get(c.var.tenantId, c.req.valid('param').id);
      return c.json({ ...wf, createdAt: wf.createdAt.toISOString(), archivedAt: iso(wf.archivedAt) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/versions/{version}',
      tags: ['workflows'],
      summary: 'Read one version',
      ...requires('workflows:read'),
      request: {
        params: IdParamSchema.extend({
          version: z.coerce
            .number()
            .int()
            .min(1)
            .openapi({ param: { name: 'version', in: 'path' } }),
        }),
      },
      responses: { 200: json(WorkflowSchema, 'The version'), ...errorResponses },
    }),
    async (c) => {
      const { id, version } = c.req.valid('param');
      const wf = await deps.workflows.get(c.var.tenantId, id, version);
      return c.json({ ...wf, createdAt: wf.createdAt.toISOString(), archivedAt: iso(wf.archivedAt) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/diagram',
      tags: ['workflows'],
      summary: 'The definition as a Mermaid flowchart (latest version unless ?version=)',
      ...requires('workflows:read'),
      request: { params: IdParamSchema, query: z.object({ version: z.coerce.number().int().min(1).optional() }) },
      responses: {
        200: { content: { 'text/plain': { schema: z.string() } }, description: 'Mermaid source' },
        ...errorResponses,
      },
    }),
    async (c) => {
      const wf = await deps.workflows.get(c.var.tenantId, c.req.valid('param').id, c.req.valid('query').version);
      return c.text(toMermaid(wf.definition), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/{id}',
      tags: ['workflows'],
      summary: 'Save a new immutable version; running runs keep theirs',
      ...requires('workflows:write'),
      request: { params: IdParamSchema, ...body },
      responses: { 200: json(CreatedSchema, 'New version'), 409: problem('Archived'), ...errorResponses },
    }),
    async (c) => {
      const definition = parseDefinition(c.req.valid('json'));
      await assertStepTopics(topics, c.var.tenantId, definition);
      if (definition.onFailure)
        await assertFailureTarget(deps.workflows, c.var.tenantId, definition.onFailure, '/onFailure');
      await assertKnownStores(deps.secretStores, c.var.tenantId, definition.steps);
      const saved = await deps.workflows.addVersion(c.var.tenantId, c.req.valid('param').id, definition);
      c.var.logger.info({ workflowId: saved.id, version: saved.version }, 'workflow version saved');
      return c.json(saved, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags: ['workflows'],
      summary: 'Archive: no new runs, its triggers deleted, history kept',
      ...requires('workflows:write'),
      request: { params: IdParamSchema },
      responses: { 204: { description: 'Archived' }, ...errorResponses },
    }),
    async (c) => {
      await deps.workflows.archive(c.var.tenantId, c.req.valid('param').id);
      // After the archive: a firing in between finds the workflow archived and starts nothing.
      await deleteWorkflowTriggers(triggerDeps(deps), c.var.tenantId, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return app;
}

/** `GET /v1/schema/workflow`: the DSL as JSON Schema, generated from the zod schemas. */
export function schemaRoutes() {
  const app = new OpenAPIHono<ApiEnv>();
  const schema = definitionJsonSchema(registry);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflow',
      tags: ['workflows'],
      summary: 'JSON Schema of the workflow language',
      ...requires('workflows:read'),
      responses: { 200: json(z.record(z.string(), z.unknown()), 'JSON Schema (draft 2020-12)') },
    }),
    (c) => c.json(schema, 200),
  );
  return app;
}

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { WorkflowsRepo } from '../db/workflows-repo.js';
import { FailureTargetSchema, type FailureTarget } from '../definitions/schema.js';
import { AppError, invalidDefinition } from '../shared/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json } from './schemas.js';

const SettingsBodySchema = z
  .strictObject({
    onFailure: FailureTargetSchema.nullable().openapi({
      description:
        'The workflow started when a run fails, parks a dead letter, times out or breaches its SLA, for workflows that name no `onFailure` of their own; null: none. A run reads it when it starts.',
      example: { workflowId: '7c1e…' },
    }),
  })
  .openapi('TenantSettingsBody');

const SettingsSchema = z
  .object({
    onFailure: FailureTargetSchema.nullable(),
    updatedAt: z.string().nullable(),
  })
  .openapi('TenantSettings');

/**
 * Refuses a failure workflow that is not one of the tenant's (another tenant's looks missing
 * too), is archived, or lacks the version pinned. `pointer`: where the target sits in what was sent.
 */
export async function assertFailureTarget(
  workflows: WorkflowsRepo,
  tenantId: string,
  target: FailureTarget,
  pointer: string,
): Promise<void> {
  const problem = (message: string) => invalidDefinition([{ pointer, message }]);
  try {
    const found = await workflows.get(tenantId, target.workflowId, target.version);
    if (found.archivedAt) throw problem(`the failure workflow '${target.workflowId}' is archived`);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'NOT_FOUND') throw err;
    throw problem(
      target.version === undefined
        ? `no workflow '${target.workflowId}' to start on failure`
        : `no version ${target.version} of workflow '${target.workflowId}' to start on failure`,
    );
  }
}

const getSettings = createRoute({
  method: 'get',
  path: '/settings',
  tags: ['settings'],
  summary: "The tenant's settings: its default failure workflow",
  ...requires('admin'),
  responses: { 200: json(SettingsSchema, 'The settings'), ...errorResponses },
});

const putSettings = createRoute({
  method: 'put',
  path: '/settings',
  tags: ['settings'],
  summary: "Replace the tenant's settings (runs started from now on read them)",
  ...requires('admin'),
  request: { body: { content: { 'application/json': { schema: SettingsBodySchema } }, required: true } },
  responses: { 200: json(SettingsSchema, 'The settings now'), ...errorResponses },
});

const toBody = (s: { onFailure: FailureTarget | null; updatedAt: Date | null }) => ({
  onFailure: s.onFailure,
  updatedAt: s.updatedAt ? s.updatedAt.toISOString() : null,
});

/** `/v1/settings`: what applies to every workflow of the tenant. */
export function settingsRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(getSettings, async (c) => c.json(toBody(await deps.settings.get(c.var.tenantId)), 200));
  app.openapi(putSettings, async (c) => {
    const { onFailure } = c.req.valid('json');
    if (onFailure) await assertFailureTarget(deps.workflows, c.var.tenantId, onFailure, '/onFailure');
    const saved = await deps.settings.put(c.var.tenantId, { onFailure });
    c.var.logger.info({ onFailure }, 'tenant settings saved');
    return c.json(toBody(saved), 200);
  });
  return app;
}

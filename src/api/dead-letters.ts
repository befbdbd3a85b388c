import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { deadLetterResolved, type DeadLetterRow } from '../db/dead-letters-repo.js';
import { AppError, unavailable } from '../shared/errors.js';
import { redriveSignal, type RedriveDecision } from '../workflows/run-model.js';
import { startBulkOperation } from './bulk-operation.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { assertScopes, requires } from './middleware/scopes.js';
import { patchedStep } from './redrive-patch.js';
import { errorResponses, IdParamSchema, json, PageQuerySchema, problem } from './schemas.js';

const GroupFilterSchema = z.object({
  workflowId: z.string().max(200).optional(),
  stepId: z.string().max(64).optional(),
  errorCode: z.string().max(100).optional(),
  httpStatus: z.coerce.number().int().min(100).max(599).optional(),
});
const DeadLetterSchema = z
  .object({
    id: z.string(),
    runId: z.string(),
    workflowId: z.string(),
    version: z.number().int(),
    stepId: z.string(),
    stepType: z.string(),
    errorCode: z.string(),
    httpStatus: z.number().int().nullable(),
    error: z.unknown(),
    attempts: z.number().int(),
    input: z.unknown(),
    status: z.enum(['open', 'redriven', 'discarded']),
    reason: z.string().nullable(),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
  })
  .openapi('DeadLetter');

const view = ({ executionId: _executionId, ...d }: DeadLetterRow) => ({
  ...d,
  createdAt: d.createdAt.toISOString(),
  resolvedAt: d.resolvedAt?.toISOString() ?? null,
});

/**
 * Dead letters: steps that failed for good, parked in their runs. Inspect, group, re-drive one
 * (optionally with a corrected config or a newer version of the step), re-drive a whole group at a
 * bounded rate, or discard.
 */
export function deadLettersRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['dead letters'],
      summary: 'List dead letters, newest first',
      ...requires('runs:read'),
      request: {
        query: PageQuerySchema.extend(GroupFilterSchema.shape).extend({
          since: z.iso.datetime({ offset: true }).optional(),
          status: z.enum(['open', 'redriven', 'discarded']).default('open'),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(DeadLetterSchema), nextCursor: z.string().nullable() }), 'A page'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { cursor, limit, since, ...filter } = c.req.valid('query');
      const { items, nextCursor } = await deps.deadLetters.list(
        c.var.tenantId,
        { ...filter, since: since ? new Date(since) : undefined },
        { cursor, limit },
      );
      return c.json({ items: items.map(view), nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/groups',
      tags: ['dead letters'],
      summary: 'Open dead letters grouped by workflow, step, error code and HTTP status',
      ...requires('runs:read'),
      request: { query: GroupFilterSchema },
      responses: {
        200: json(
          z.object({
            items: z.array(
              z.object({
                workflowId: z.string(),
                stepId: z.string(),
                errorCode: z.string(),
                httpStatus: z.number().nullable(),
                count: z.number(),
                oldest: z.string(),
                newest: z.string(),
              }),
            ),
          }),
          'Groups',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const groups = await deps.deadLetters.groups(c.var.tenantId, c.req.valid('query'));
      return c.json(
        { items: groups.map((g) => ({ ...g, oldest: g.oldest.toISOString(), newest: g.newest.toISOString() })) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/redrive',
      tags: ['dead letters'],
      summary: 'Re-drive every open dead letter matching a filter, at a bounded rate',
      ...requires('runs:write'),
      request: {
        body: {
          content: {
            'application/json': {
              schema: GroupFilterSchema.extend({
                ratePerSecond: z.number().int().min(1).max(100).default(5),
                limit: z.number().int().min(1).max(10_000).default(1000),
              }),
            },
          },
          required: true,
        },
      },
      responses: {
        202: json(z.object({ operationId: z.string(), matched: z.number().int() }), 'Started'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { ratePerSecond, limit, ...filter } = c.req.valid('json');
      const matched = (await deps.deadLetters.openIds(c.var.tenantId, filter, limit)).length;
      const operationId = await startBulkOperation(deps, 'bulkRedrive', {
        tenantId: c.var.tenantId,
        filter,
        ratePerSecond,
        limit,
      });
      c.var.logger.info({ operationId, matched, filter }, 'bulk re-drive started');
      return c.json({ operationId, matched }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags: ['dead letters'],
      summary: 'One dead letter',
      ...requires('runs:read'),
      request: { params: IdParamSchema },
      responses: { 200: json(DeadLetterSchema, 'The dead letter'), ...errorResponses },
    }),
    async (c) => c.json(view(await deps.deadLetters.get(c.var.tenantId, c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/redrive',
      tags: ['dead letters'],
      summary:
        'Re-run the failed step in its run, earlier outputs intact; optionally with a corrected config or the step of another version',
      description:
        'Needs runs:write; with `config` or `version` also workflows:write (403 FORBIDDEN), since that changes what the step does. ' +
        'The changed step may not reference a secret the failed step did not (400 REDRIVE_ADDS_SECRET).',
      ...requires('runs:write'),
      request: {
        params: IdParamSchema,
        body: {
          content: {
            'application/json': {
              schema: z.object({
                config: z
                  .record(z.string(), z.unknown())
                  .optional()
                  .openapi({ description: "Merged over the step's config" }),
                version: z.number().int().min(1).optional(),
              }),
            },
          },
          required: false,
        },
      },
      responses: {
        202: json(z.object({ redriven: z.literal(true) }), 'Re-driven'),
        409: problem('Already resolved, or the run has ended'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json') ?? {};
      const changes = body.config !== undefined || body.version !== undefined;
      if (changes) assertScopes(c, ['workflows:write'], 'to re-drive with a changed config or version');
      const dl = await openDeadLetter(deps, c.var.tenantId, c.req.valid('param').id);
      const step = changes ? await patchedStep(deps, c.var.tenantId, dl, body) : undefined;
      await decide(deps, dl, { deadLetterId: dl.id, action: 'redrive', ...(step ? { step } : {}) });
      await deps.deadLetters.resolve(c.var.tenantId, dl.id, 'redriven');
      c.var.logger.info({ runId: dl.runId, stepId: dl.stepId, deadLetterId: dl.id }, 'dead letter re-driven');
      return c.json({ redriven: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags: ['dead letters'],
      summary: 'Discard: the run ends as failed',
      ...requires('runs:write'),
      request: { params: IdParamSchema, query: z.object({ reason: z.string().max(500).optional() }) },
      responses: { 204: { description: 'Discarded' }, 409: problem('Already resolved'), ...errorResponses },
    }),
    async (c) => {
      const dl = await openDeadLetter(deps, c.var.tenantId, c.req.valid('param').id);
      const reason = c.req.valid('query').reason;
      await decide(deps, dl, { deadLetterId: dl.id, action: 'discard', ...(reason ? { reason } : {}) });
      await deps.deadLetters.resolve(c.var.tenantId, dl.id, 'discarded', reason);
      return c.body(null, 204);
    },
  );

  return app;
}

async function openDeadLetter(deps: ApiDeps, tenantId: string, id: string): Promise<DeadLetterRow> {
  const dl = await deps.deadLetters.get(tenantId, id);
  if (dl.status !== 'open') throw deadLetterResolved(id, dl.status);
  return dl;
}

async function decide(deps: ApiDeps, dl: DeadLetterRow, decision: RedriveDecision): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(dl.executionId).signal(redriveSignal, decision);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new AppError({
        code: 'RUN_ENDED',
        message: `the run of dead letter '${dl.id}' has ended`,
        httpStatus: 409,
      });
    throw unavailable('Temporal', err);
  }
}

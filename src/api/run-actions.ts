import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { RunRow } from '../db/runs-repo.js';
import { AppError, unavailable } from '../shared/errors.js';
import { closureOf } from '../temporal/run-closure.js';
import { triggerPayload } from '../temporal/run-payload.js';
import {
  RUN_STATUSES,
  runStateQuery,
  SOURCE_TYPES,
  TERMINAL_STATUSES,
  type StepState,
} from '../workflows/run-model.js';
import { startBulkOperation } from './bulk-operation.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { resetToStep } from './run-reset.js';
import { errorResponses, IdParamSchema, json, problem } from './schemas.js';
import { triggerRun } from '../runs/start-run.js';

const runEnded = (runId: string, status: string) =>
  new AppError({ code: 'RUN_ENDED', message: `run '${runId}' has ended (${status})`, httpStatus: 409 });

/**
 * What an operator does to a run from outside it: terminate it, run it again with the same
 * payload, or reset it to before a step (Temporal reset; the run id stays, the execution changes).
 */
export function runActionsRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/terminate',
      tags: ['runs'],
      summary: 'End a run now, whatever it is doing (Temporal terminate); the reason is recorded',
      ...requires('admin'),
      request: {
        params: IdParamSchema,
        body: {
          content: {
            'application/json': { schema: z.object({ reason: z.string().min(1).max(1000) }).openapi('TerminateRun') },
          },
          required: true,
        },
      },
      responses: {
        202: json(z.object({ terminated: z.literal(true) }), 'Terminated'),
        409: problem('The run has ended'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      const row = await deps.runs.get(c.var.tenantId, id);
      if (TERMINAL_STATUSES.includes(row.status)) throw runEnded(id, row.status);
      try {
        await deps.temporal.workflow.getHandle(id).terminate(reason);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw runEnded(id, 'ended');
        throw unavailable('Temporal', err);
      }
      // Shown at once; the reconciler confirms Temporal's close time.
      await deps.runs.markTerminated(c.var.tenantId, id, reason, new Date());
      c.var.logger.info({ runId: id, reason }, 'run terminated');
      return c.json({ terminated: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/rerun',
      tags: ['runs'],
      summary: 'Start a new run with the same trigger payload, on the same version (default) or the latest',
      ...requires('runs:write'),
      request: {
        params: IdParamSchema,
        body: {
          content: {
            'application/json': {
              schema: z.object({ version: z.enum(['same', 'latest']).default('same') }).openapi('RerunRun'),
            },
          },
          required: false,
        },
      },
      responses: {
        202: json(z.object({ runId: z.string() }), 'Accepted'),
        409: problem('Archived, or the original input is gone from Temporal'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await deps.runs.get(c.var.tenantId, id);
      const version = c.req.valid('json')?.version ?? 'same';
      const payload = await triggerPayload(deps.temporal, id);
      const { runId } = await triggerRun(
        deps,
        {
          tenantId: c.var.tenantId,
          workflowId: row.workflowId,
          payload,
          version: version === 'same' ? row.version : undefined,
          source: { type: 'rerun' },
        },
        c.var.logger,
      );
      c.var.logger.info({ runId, rerunOf: id, version }, 'run re-run');
      return c.json({ runId }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/reset',
      tags: ['runs'],
      summary: 'Resume the run from before a top-level step (Temporal reset); earlier steps keep their outputs',
      ...requires('runs:write'),
      request: {
        params: IdParamSchema,
        body: {
          content: {
            'application/json': {
              schema: z.object({ fromStep: z.string().regex(/^[a-z0-9_-]{1,100}$/) }).openapi('ResetRun'),
            },
          },
          required: true,
        },
      },
      responses: { 202: json(z.object({ runId: z.string(), executionId: z.string() }), 'Reset'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { fromStep } = c.req.valid('json');
      const row = await deps.runs.get(c.var.tenantId, id);
      const steps = await currentSteps(deps, row);
      const executionId = await resetToStep(deps.temporal, id, steps, fromStep).catch((err: unknown) => {
        if (err instanceof AppError) throw err;
        throw unavailable('Temporal', err);
      });
      c.var.logger.info({ runId: id, fromStep, executionId }, 'run reset');
      return c.json({ runId: id, executionId }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/rerun',
      tags: ['runs'],
      summary:
        'Run again every run a filter matches, each with its own trigger payload, at a bounded rate (a durable job)',
      ...requires('runs:write'),
      request: {
        body: {
          content: {
            'application/json': {
              schema: z
                .object({
                  workflowId: z.string().max(200).optional(),
                  status: z.enum(RUN_STATUSES).optional(),
                  source: z.enum(SOURCE_TYPES).optional(),
                  since: z.iso.datetime({ offset: true }).optional(),
                  until: z.iso.datetime({ offset: true }).optional(),
                  version: z.enum(['same', 'latest']).default('same'),
                  ratePerSecond: z.number().int().min(1).max(100).default(5),
                  limit: z.number().int().min(1).max(10_000).default(1000),
                })
                .openapi('BulkRerun'),
            },
          },
          required: true,
        },
      },
      responses: { 202: json(z.object({ operationId: z.string() }), 'Started'), ...errorResponses },
    }),
    async (c) => {
      const { version, ratePerSecond, limit, ...filter } = c.req.valid('json');
      const operationId = await startBulkOperation(deps, 'bulkRerun', {
        tenantId: c.var.tenantId,
        filter,
        version,
        ratePerSecond,
        limit,
      });
      c.var.logger.info({ operationId, filter, version, ratePerSecond }, 'bulk re-run started');
      return c.json({ operationId }, 202);
    },
  );

  return app;
}

/** The top-level steps as the run itself has them now (its query), else as the index has them. */
async function currentSteps(deps: ApiDeps, row: RunRow): Promise<StepState[]> {
  if (TERMINAL_STATUSES.includes(row.status)) return row.steps ?? [];
  try {
    const live = await deps.temporal.withDeadline(Date.now() + 3_000, () =>
      deps.temporal.workflow.getHandle(row.id).query(runStateQuery),
    );
    return live.steps;
  } catch {
    return row.steps ?? [];
  }
}

/**
 * For a run whose own final record is in but whose close the index has not seen: asks Temporal,
 * and records the close if there is one. Answers the row as it stands afterwards.
 */
export async function confirmClose(deps: ApiDeps, tenantId: string, row: RunRow): Promise<RunRow> {
  try {
    const info = await deps.temporal.withDeadline(Date.now() + 3_000, () =>
      deps.temporal.workflow.getHandle(row.id).describe(),
    );
    const closure = await closureOf(deps.temporal, info);
    if (!closure) return row;
    await deps.runClosures.applyClosures([{ ...closure, tenantId }]);
    return await deps.runs.get(tenantId, row.id);
  } catch (err) {
    deps.logger.debug({ err, runId: row.id }, 'could not confirm the close of a run with Temporal');
    return row;
  }
}

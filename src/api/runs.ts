import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { RunSummaryRow } from '../db/runs-repo.js';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { AppError, unavailable } from '../shared/errors.js';
import {
  eventSignal,
  RUN_STATUSES,
  runStateQuery,
  SOURCE_TYPES,
  TERMINAL_STATUSES,
  type RunSnapshot,
  type RunStatus,
} from '../workflows/run-model.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { confirmClose, runActionsRoutes } from './run-actions.js';
import { runMigrationRoutes } from './run-migrations.js';
import { errorResponses, IdParamSchema, json, PageQuerySchema, problem } from './schemas.js';
import { triggerRun } from '../runs/start-run.js';
import { answerWith, awaitRunAnswer, parseWait } from './run-answer.js';

/** What only a run's end says (a parked run is `failed` without having ended). */
const ENDING: readonly RunStatus[] = ['completed', 'cancelled', 'timed_out'];
const ProblemSchema = z
  .object({ cause: z.string(), since: z.string(), attempts: z.number().int(), message: z.string().optional() })
  .nullable()
  .openapi('RunProblem', {
    description:
      "Set while the run's workflow tasks keep failing (Temporal retries them): why, since when, how many attempts",
  });

const SourceSchema = z
  .object({
    type: z.enum(SOURCE_TYPES),
    triggerId: z.string().optional(),
    scheduledAt: z.string().optional(),
    topic: z.string().optional(),
    partition: z.number().int().optional(),
    offset: z.string().optional(),
    failedRunId: z.string().optional().openapi({ description: "A failure workflow's run: the run that started it" }),
  })
  .nullable()
  .openapi('RunSource', { description: 'How the run started (null for runs indexed before sources were recorded)' });

const ParkedSchema = z
  .object({
    since: z.string().openapi({ description: 'When the step failed for good and its dead letter was recorded' }),
    deadLetterId: z
      .string()
      .openapi({ description: 'The dead letter to re-drive (or discard): /v1/dead-letters/{id}' }),
  })
  .nullable()
  .openapi('RunParked', {
    description:
      'Set while the run is parked: a step failed for good, the run shows `failed` without having ended, and waits, holding every earlier output, until its dead letter is re-driven (the step runs again) or discarded (the run ends failed)',
  });

const StepSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.string(),
    attempts: z.number().int(),
    executions: z.number().int(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    output: z.unknown(),
    error: z.unknown(),
    children: z
      .array(z.object({ key: z.string(), status: z.string(), steps: z.unknown() }))
      .optional()
      .openapi({ description: 'Per parallel branch, per foreach item (or batch of items)' }),
    waiting: z
      .object({ type: z.literal('approval'), approveUrl: z.string(), rejectUrl: z.string(), expiresAt: z.string() })
      .optional()
      .openapi({ description: "While an approval step waits: its links (the link is the approver's credential)" }),
  })
  .openapi('RunStep');
const RunSummarySchema = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    version: z.number().int(),
    status: z.enum(RUN_STATUSES).openapi({
      description:
        'Ended (completed, failed with endedAt, cancelled, timed_out, terminated) only once Temporal closed the run',
    }),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    problem: ProblemSchema,
    source: SourceSchema,
    parked: ParkedSchema,
    movedFrom: z.number().int().nullable().openapi({
      description:
        'The version the run was moved from to `version` (POST /v1/workflows/{id}/versions/{v}/migrate); null if it runs the version it started on',
    }),
  })
  .openapi('RunSummary');
const RunSchema = RunSummarySchema.extend({
  steps: z.array(StepSchema),
  result: z.unknown(),
  error: z.unknown(),
  links: z.object({ temporalUi: z.string() }),
}).openapi('Run');

const summary = (r: RunSummaryRow) => ({
  id: r.id,
  workflowId: r.workflowId,
  version: r.version,
  status: r.status,
  startedAt: r.startedAt.toISOString(),
  endedAt: r.endedAt?.toISOString() ?? null,
  problem: r.problem,
  source: r.source,
  parked: r.status === 'failed' ? r.parked : null,
  movedFrom: r.movedFrom,
});

/** Runs: trigger, list (from the PostgreSQL index), inspect (index, or the live run's query). */
export function runsRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{id}/runs',
      tags: ['runs'],
      summary: 'Trigger a run; the body is the trigger payload',
      description:
        'With `?wait=30s` (at most 60s) the call waits for the run: `200 {runId, status, output}` when it ends within the wait, or the answer of its first `respond` step; else the usual 202 with a `Location` to poll. Waiting holds no worker; a caller that goes away changes nothing.',
      ...requires('runs:write'),
      request: {
        params: IdParamSchema,
        query: z.object({
          wait: z
            .string()
            .max(100)
            .optional()
            .openapi({ description: 'How long to wait for the run, e.g. 30s (at most 60s)' }),
        }),
        headers: z.object({
          'idempotency-key': z
            .string()
            .min(1)
            .max(200)
            .optional()
            .openapi({ description: 'Repeats return the same run' }),
        }),
        body: {
          content: {
            'application/json': { schema: z.unknown().openapi({ description: 'Any JSON: `trigger` in expressions' }) },
          },
          required: false,
        },
      },
      responses: {
        200: json(
          z
            .object({ runId: z.string(), status: z.enum(RUN_STATUSES), output: z.unknown(), error: z.unknown() })
            .openapi('RunAnswered'),
          'The run ended within the wait (or a respond step answered, as it said)',
        ),
        202: json(z.object({ runId: z.string() }).openapi('RunAccepted'), 'Accepted'),
        409: problem('Archived'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const waitMs = parseWait(c.req.valid('query').wait);
      const { runId, replayed, responds } = await triggerRun(
        deps,
        {
          tenantId: c.var.tenantId,
          workflowId: c.req.valid('param').id,
          payload: c.req.valid('json'),
          idempotencyKey: c.req.valid('header')['idempotency-key'],
        },
        c.var.logger,
      );
      if (replayed) c.header('idempotent-replayed', 'true');
      c.header('location', `/v1/runs/${encodeURIComponent(runId)}`);
      if (waitMs === undefined) return c.json({ runId }, 202);
      const answer = await awaitRunAnswer(deps.temporal, runId, { waitMs, responds, signal: c.req.raw.signal });
      return answerWith(c, runId, answer) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/runs',
      tags: ['runs'],
      summary: 'List runs, newest first (keyset pagination)',
      ...requires('runs:read'),
      request: {
        query: PageQuerySchema.extend({
          workflowId: z.string().max(200).optional(),
          status: z.enum(RUN_STATUSES).optional(),
          since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'started at or after' }),
          until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'started before' }),
          problem: z
            .enum(['true', 'false'])
            .optional()
            .openapi({ description: 'true: only runs whose workflow tasks keep failing' }),
          source: z.enum(SOURCE_TYPES).optional().openapi({ description: 'only runs started this way' }),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(RunSummarySchema), nextCursor: z.string().nullable() }), 'A page'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filter = {
        workflowId: q.workflowId,
        status: q.status,
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
        problem: q.problem === undefined ? undefined : q.problem === 'true',
        source: q.source,
      };
      const { items, nextCursor } = await deps.runs.list(c.var.tenantId, filter, q);
      return c.json({ items: items.map(summary), nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}',
      tags: ['runs'],
      summary: 'A run with every step',
      ...requires('runs:read'),
      request: { params: IdParamSchema },
      responses: { 200: json(RunSchema, 'The run'), ...errorResponses },
    }),
    async (c) => {
      const found = await deps.runs.get(c.var.tenantId, c.req.valid('param').id);
      // Ended only once Temporal closed it: ask Temporal rather than wait for the reconciler.
      const row = found.awaitingClose ? await confirmClose(deps, c.var.tenantId, found) : found;
      // The run's own query would already say how it ends: while Temporal has not closed it, the index answers.
      const live =
        TERMINAL_STATUSES.includes(row.status) || row.awaitingClose ? undefined : await liveState(deps, row.id);
      const state = live ?? { status: row.status, steps: row.steps ?? [], result: row.result, error: row.error };
      const temporalUi = `${deps.config.TEMPORAL_UI_URL}/namespaces/${deps.config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(row.id)}`;
      // A run that says it ended (other than a parked `failed`) is shown running until Temporal closed it.
      const status = row.awaitingClose || (live && ENDING.includes(live.status)) ? row.status : state.status;
      return c.json(
        {
          ...summary(row),
          status,
          // A run the live query shows going on again (re-driven a moment ago) is not parked any more.
          parked: status === 'failed' ? row.parked : null,
          steps: state.steps,
          result: state.result,
          error: state.error,
          links: { temporalUi },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/events/{name}',
      tags: ['runs'],
      summary: 'Deliver an event to a run; a wait_for_event step with this name takes it (kept until one does)',
      ...requires('runs:write'),
      request: {
        params: IdParamSchema.extend({
          name: z
            .string()
            .regex(/^[A-Za-z0-9_.-]{1,100}$/)
            .openapi({ param: { name: 'name', in: 'path' } }),
        }),
        body: {
          content: {
            'application/json': {
              schema: z.unknown().openapi({ description: "The event's payload: the step's output" }),
            },
          },
          required: false,
        },
      },
      responses: {
        202: json(z.object({ delivered: z.literal(true) }), 'Delivered'),
        409: problem('The run has ended'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id, name } = c.req.valid('param');
      await signalRun(deps, c.var.tenantId, id, (handle) =>
        handle.signal(eventSignal, { name, payload: c.req.valid('json') ?? null }),
      );
      c.var.logger.info({ runId: id, event: name }, 'event delivered');
      return c.json({ delivered: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/cancel',
      tags: ['runs'],
      summary: 'Cancel a running or waiting run',
      ...requires('runs:write'),
      request: { params: IdParamSchema },
      responses: {
        202: json(z.object({ cancelling: z.literal(true) }), 'Cancellation requested'),
        409: problem('The run has ended'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await signalRun(deps, c.var.tenantId, id, (handle) => handle.cancel());
      c.var.logger.info({ runId: id }, 'run cancellation requested');
      return c.json({ cancelling: true as const }, 202);
    },
  );

  app.route('/', runActionsRoutes(deps));
  app.route('/', runMigrationRoutes(deps));
  return app;
}

/** Sends something to a run of this tenant that has not ended; an ended run is a 409. */
async function signalRun(
  deps: ApiDeps,
  tenantId: string,
  runId: string,
  send: (handle: WorkflowHandle) => Promise<unknown>,
): Promise<void> {
  const row = await deps.runs.get(tenantId, runId);
  if (TERMINAL_STATUSES.includes(row.status)) throw runEnded(runId, row.status);
  try {
    await send(deps.temporal.workflow.getHandle(runId));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw runEnded(runId, 'ended');
    throw unavailable('Temporal', err);
  }
}

const runEnded = (runId: string, status: string) =>
  new AppError({ code: 'RUN_ENDED', message: `run '${runId}' has ended (${status})`, httpStatus: 409 });

/** The state of a run still going, from its `runState` query; undefined if it cannot answer now. */
async function liveState(deps: ApiDeps, runId: string): Promise<RunSnapshot | undefined> {
  try {
    return await deps.temporal.withDeadline(Date.now() + 3_000, () =>
      deps.temporal.workflow.getHandle(runId).query(runStateQuery),
    );
  } catch (err) {
    deps.logger.debug({ err, runId }, 'live run state unavailable; answering from the index');
    return undefined;
  }
}

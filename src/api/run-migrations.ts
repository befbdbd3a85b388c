import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { RunRow } from '../db/runs-repo.js';
import { AppError } from '../shared/errors.js';
import { MIGRATION_REFUSED, migrateUpdate, migrationCheckQuery, type MigrationOffer } from '../workflows/migration.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, IdParamSchema, json } from './schemas.js';

/** The most runs one call offers a version to; more are paged (`nextCursor`) or refused (`runIds`). */
export const MIGRATE_MAX_RUNS = 100;
/** Runs asked at once, and how long each may take to answer. */
const IN_FLIGHT = 8;
const ANSWER_WITHIN_MS = 10_000;

const RESULTS = ['compatible', 'incompatible', 'accepted', 'ended', 'skipped', 'unavailable'] as const;
type Result = (typeof RESULTS)[number];

const MigrateBodySchema = z
  .strictObject({
    dryRun: z.boolean().openapi({ description: 'true: only judge each run; nothing moves' }),
    fromVersions: z
      .array(z.int().min(1))
      .min(1)
      .max(MIGRATE_MAX_RUNS)
      .optional()
      .openapi({ description: 'Only runs on these versions (each older than the target); default every older one' }),
    runIds: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(MIGRATE_MAX_RUNS)
      .optional()
      .openapi({ description: `Only these runs of the workflow (at most ${MIGRATE_MAX_RUNS})` }),
    limit: z.int().min(1).max(MIGRATE_MAX_RUNS).default(MIGRATE_MAX_RUNS).openapi({ description: 'Runs per page' }),
    cursor: z.string().max(500).optional().openapi({ description: 'nextCursor of the previous call' }),
  })
  .refine((b) => !(b.runIds && b.cursor), { message: 'a cursor pages the open runs; it goes without runIds' })
  .openapi('MigrateRuns');

const MigrationItemSchema = z
  .object({
    runId: z.string(),
    version: z.number().int().openapi({ description: 'The version the run is on' }),
    result: z.enum(RESULTS).openapi({
      description:
        'compatible / incompatible (dry run); accepted: moves at its next step boundary; incompatible: stays, see reason; ended, skipped (already on this version or newer, or not in fromVersions); unavailable: the run did not answer, try again',
    }),
    reason: z.string().nullable(),
  })
  .openapi('RunMigration');

const MigrationReportSchema = z
  .object({
    workflowId: z.string(),
    version: z.number().int(),
    dryRun: z.boolean(),
    items: z.array(MigrationItemSchema),
    nextCursor: z.string().nullable().openapi({ description: 'More open runs to offer the version to: call again' }),
  })
  .openapi('RunMigrationReport');

const notNewer = (message: string) => new AppError({ code: 'VERSION_NOT_NEWER', message, httpStatus: 400 });

/**
 * `POST /v1/workflows/{id}/versions/{version}/migrate`: offers the open runs of older versions the
 * new definition. Each run judges the offer itself (src/workflows/migration.ts) and, if
 * compatible, moves at its next step boundary; the dry run asks the same question without the offer.
 */
export function runMigrationRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{id}/versions/{version}/migrate',
      tags: ['runs'],
      summary: 'Move open runs of older versions to this version, each at its next step boundary, where compatible',
      ...requires('runs:write'),
      request: {
        params: IdParamSchema.extend({
          version: z.coerce
            .number()
            .int()
            .min(1)
            .max(2 ** 31 - 1)
            .openapi({ param: { name: 'version', in: 'path' } }),
        }),
        body: { content: { 'application/json': { schema: MigrateBodySchema } }, required: true },
      },
      responses: { 200: json(MigrationReportSchema, 'What each run answered'), ...errorResponses },
    }),
    async (c) => {
      const { id, version } = c.req.valid('param');
      const body = c.req.valid('json');
      const tenantId = c.var.tenantId;
      const target = await deps.workflows.get(tenantId, id, version);
      if (version === 1) throw notNewer('version 1 is the first: no run is on an older one');
      const later = body.fromVersions?.find((v) => v >= version);
      if (later !== undefined) throw notNewer(`version ${version} is not newer than version ${later} (fromVersions)`);
      const { rows, nextCursor } = body.runIds
        ? { rows: await namedRuns(deps, tenantId, id, body.runIds), nextCursor: null }
        : await openRuns(deps, tenantId, id, version, body);
      const offer: MigrationOffer = { workflowId: id, version, definition: target.definition };
      const items = await inBatches(rows, (row) => offerTo(deps, row, offer, body));
      c.var.logger.info(
        { workflowId: id, version, dryRun: body.dryRun, results: countBy(items.map((i) => i.result)) },
        'runs offered a newer version',
      );
      return c.json({ workflowId: id, version, dryRun: body.dryRun, items, nextCursor }, 200);
    },
  );

  return app;
}

/** The named runs, each of which must be a run of this workflow in this tenant (another tenant's is unknown here). */
async function namedRuns(deps: ApiDeps, tenantId: string, workflowId: string, ids: string[]): Promise<RunRow[]> {
  const unique = [...new Set(ids)];
  const rows = await deps.runs.getMany(tenantId, unique);
  const mine = new Map(rows.filter((r) => r.workflowId === workflowId).map((r) => [r.id, r]));
  const missing = unique.find((runId) => !mine.has(runId));
  if (missing !== undefined)
    throw new AppError({
      code: 'NOT_FOUND',
      message: `run '${missing}' is not a run of workflow '${workflowId}'`,
      httpStatus: 404,
    });
  return unique.flatMap((runId) => mine.get(runId) ?? []);
}

async function openRuns(
  deps: ApiDeps,
  tenantId: string,
  workflowId: string,
  version: number,
  body: { fromVersions?: number[]; limit: number; cursor?: string },
): Promise<{ rows: RunRow[]; nextCursor: string | null }> {
  const page = await deps.runs.listOpenBelow(tenantId, workflowId, version, body.fromVersions, body);
  return { rows: page.items, nextCursor: page.nextCursor };
}

type Item = z.infer<typeof MigrationItemSchema>;

/** Asks one run: judge the offer (dry run), or take it. */
async function offerTo(
  deps: ApiDeps,
  row: RunRow,
  offer: MigrationOffer,
  body: { dryRun: boolean; fromVersions?: number[] },
): Promise<Item> {
  const item = (result: Result, reason: string | null = null): Item => ({
    runId: row.id,
    version: row.version,
    result,
    reason,
  });
  if (row.endedAt !== null || row.awaitingClose) return item('ended', `the run has ended (${row.status})`);
  if (row.version >= offer.version) return item('skipped', `the run is on version ${row.version} already`);
  if (body.fromVersions && !body.fromVersions.includes(row.version))
    return item('skipped', `the run is on version ${row.version}, not one of fromVersions`);
  const handle = deps.temporal.workflow.getHandle(row.id);
  const deadline = Date.now() + ANSWER_WITHIN_MS;
  try {
    if (body.dryRun) {
      const verdict = await deps.temporal.withDeadline(deadline, () => handle.query(migrationCheckQuery, offer));
      return verdict.compatible ? item('compatible') : item('incompatible', verdict.reason);
    }
    await deps.temporal.withDeadline(deadline, () => handle.executeUpdate(migrateUpdate, { args: [offer] }));
    return item('accepted', 'moves at its next step boundary');
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && isRefusal(err.cause))
      return item('incompatible', err.cause.message);
    if (err instanceof WorkflowNotFoundError) return item('ended', 'the run has ended');
    deps.logger.warn({ err, runId: row.id }, 'a run did not answer an offer of a newer version');
    return item('unavailable', 'the run did not answer; try again');
  }
}

const isRefusal = (cause: unknown): cause is ApplicationFailure =>
  cause instanceof ApplicationFailure && cause.type === MIGRATION_REFUSED;

/** Maps `rows` through `fn`, at most IN_FLIGHT at a time, in order. */
async function inBatches<T, R>(rows: T[], fn: (row: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < rows.length; i += IN_FLIGHT)
    out.push(...(await Promise.all(rows.slice(i, i + IN_FLIGHT).map(fn))));
  return out;
}

const countBy = (values: string[]) =>
  values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

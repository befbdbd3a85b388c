import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AnyTriggerRow, KafkaTriggerRow, TriggerRow } from '../db/triggers-repo.js';
import { AppError } from '../shared/errors.js';
import { deadLetterTopic, KAFKA_PATCH_FIELDS, KafkaTriggerBodySchema } from '../definitions/kafka-trigger.js';
import { createKafkaTrigger, patchKafkaTrigger } from '../triggers/kafka/trigger-changes.js';
import {
  BackfillBodySchema,
  OVERLAP_POLICIES,
  ScheduleTriggerBodySchema,
  TriggerPatchSchema,
} from '../definitions/schedule-trigger.js';
import {
  backfillSchedule,
  countFirings,
  describeSchedule,
  fireSchedule,
  scheduleId,
} from '../triggers/schedule/temporal-schedules.js';
import {
  createTrigger,
  deleteTrigger,
  patchTrigger,
  setTriggerPaused,
  triggerDeps,
} from '../triggers/trigger-changes.js';
import { apiTopicAccess } from './connector-deps.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { triggerDeadLettersRoutes } from './trigger-dead-letters.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, IdParamSchema, json, problem } from './schemas.js';

const ScheduleTriggerSchema = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    type: z.literal('schedule'),
    version: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'The pinned version; null: the latest at each firing' }),
    paused: z.boolean(),
    cron: z.string().optional(),
    every: z.string().optional(),
    timezone: z.string().optional(),
    overlap: z.enum(OVERLAP_POLICIES),
    catchupWindow: z.string().optional(),
    jitter: z.string().optional(),
    startAt: z.string().optional(),
    endAt: z.string().optional(),
    input: z.unknown().optional(),
    scheduleId: z
      .string()
      .openapi({ description: 'The Temporal Schedule (`temporal schedule describe -s <scheduleId>`)' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('ScheduleTrigger');
const KafkaTriggerSchema = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    type: z.literal('kafka'),
    version: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'The pinned version; null: the latest when each message arrives' }),
    paused: z.boolean(),
    topic: z.string(),
    filter: z.string().optional(),
    key: z.string().optional(),
    deadLetterTopic: z.string().openapi({
      description: 'Where messages that cannot be decoded, or whose filter or key fails, go (reason in headers)',
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('KafkaTrigger');
const TriggerSchema = z.union([ScheduleTriggerSchema, KafkaTriggerSchema]).openapi('Trigger');
const TriggerDetailSchema = z
  .union([
    ScheduleTriggerSchema.extend({
      nextFireTimes: z.array(z.string()).openapi({ description: 'The next 10 firings, as Temporal computed them' }),
      recentFirings: z.array(z.object({ scheduledAt: z.string(), takenAt: z.string(), triggerWorkflowId: z.string() })),
    }),
    KafkaTriggerSchema,
  ])
  .openapi('TriggerDetail');
const TriggerBodySchema = z
  .discriminatedUnion('type', [ScheduleTriggerBodySchema, KafkaTriggerBodySchema])
  .openapi('TriggerBody');
const PatchBodySchema = TriggerPatchSchema.extend(KAFKA_PATCH_FIELDS).openapi('TriggerPatch');

const notFiring = (id: string) =>
  new AppError({
    code: 'INVALID_TRIGGER',
    message: `trigger '${id}' is a Kafka trigger: messages fire it`,
    httpStatus: 400,
  });

const toScheduleTrigger = (t: TriggerRow) => {
  const { version: _pinned, overlap, ...settings } = t.config;
  return {
    ...settings,
    id: t.id,
    workflowId: t.workflowId,
    type: t.type,
    version: t.version,
    paused: t.paused,
    overlap: overlap ?? 'skip',
    scheduleId: scheduleId(t.id),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
};
const toKafkaTrigger = (t: KafkaTriggerRow, dlq: string) => {
  const { version: _pinned, ...settings } = t.config;
  return {
    ...settings,
    id: t.id,
    workflowId: t.workflowId,
    type: t.type,
    version: t.version,
    paused: t.paused,
    deadLetterTopic: dlq,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
};

const WRITE = requires('workflows:write', 'runs:write');
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

/** Triggers of workflows: schedules, each a Temporal Schedule, and Kafka topics the trigger service consumes. */
export function triggersRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  const service = triggerDeps(deps);
  const kafka = { ...service, topics: apiTopicAccess(deps) };
  const toTrigger = (t: AnyTriggerRow) =>
    t.type === 'kafka' ? toKafkaTrigger(t, deadLetterTopic(deps.config, t.config.topic)) : toScheduleTrigger(t);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{id}/triggers',
      tags: ['triggers'],
      summary: 'Add a schedule trigger (a Temporal Schedule) or a Kafka trigger (a topic the trigger service consumes)',
      ...WRITE,
      request: { params: IdParamSchema, ...jsonBody(TriggerBodySchema) },
      responses: {
        201: json(TriggerSchema, 'Created'),
        409: problem('Archived, or TOO_MANY_TRIGGERS (TENANT_MAX_TRIGGERS)'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const workflowId = c.req.valid('param').id;
      let trigger: AnyTriggerRow;
      if (body.type === 'kafka') {
        const { type: _type, ...settings } = body;
        trigger = await createKafkaTrigger(kafka, c.var.tenantId, workflowId, settings);
      } else {
        const { type: _type, ...settings } = body;
        trigger = await createTrigger(service, c.var.tenantId, workflowId, settings);
      }
      c.var.logger.info({ triggerId: trigger.id, workflowId: trigger.workflowId }, 'trigger created');
      return c.json(toTrigger(trigger), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/triggers',
      tags: ['triggers'],
      summary: "A workflow's triggers",
      ...requires('workflows:read'),
      request: { params: IdParamSchema },
      responses: { 200: json(z.object({ items: z.array(TriggerSchema) }), 'The triggers'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deps.workflows.get(c.var.tenantId, id);
      const items = await deps.triggers.listForWorkflow(c.var.tenantId, id);
      return c.json({ items: items.map(toTrigger) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/triggers/{id}',
      tags: ['triggers'],
      summary: 'A trigger with its next 10 fire times',
      ...requires('workflows:read'),
      request: { params: IdParamSchema },
      responses: { 200: json(TriggerDetailSchema, 'The trigger'), ...errorResponses },
    }),
    async (c) => {
      const trigger = await deps.triggers.get(c.var.tenantId, c.req.valid('param').id);
      if (trigger.type === 'kafka')
        return c.json(toKafkaTrigger(trigger, deadLetterTopic(deps.config, trigger.config.topic)), 200);
      const { nextFireTimes, recentFirings } = await describeSchedule(deps.temporal, trigger.id);
      return c.json({ ...toTrigger(trigger), nextFireTimes, recentFirings }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/triggers/{id}',
      tags: ['triggers'],
      summary: "Change a trigger's settings (null clears a field)",
      ...WRITE,
      request: { params: IdParamSchema, ...jsonBody(PatchBodySchema) },
      responses: { 200: json(TriggerSchema, 'Changed'), 409: problem('Archived'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const current = await deps.triggers.get(c.var.tenantId, id);
      const body = c.req.valid('json');
      if (current.type === 'kafka') return c.json(toTrigger(await patchKafkaTrigger(kafka, current, body)), 200);
      const { topic, filter, key, ...schedulePatch } = body;
      if (topic !== undefined || filter !== undefined || key !== undefined)
        throw new AppError({
          code: 'INVALID_TRIGGER',
          message: 'topic, filter and key belong to Kafka triggers',
          httpStatus: 400,
        });
      return c.json(toTrigger(await patchTrigger(service, c.var.tenantId, id, schedulePatch)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/triggers/{id}',
      tags: ['triggers'],
      summary: 'Delete a trigger and its schedule (runs it started go on)',
      ...WRITE,
      request: { params: IdParamSchema },
      responses: { 204: { description: 'Deleted' }, ...errorResponses },
    }),
    async (c) => {
      await deleteTrigger(service, c.var.tenantId, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/triggers/{id}/${action}`,
        tags: ['triggers'],
        summary: action === 'pause' ? 'Pause: no firings until resumed' : 'Resume a paused trigger',
        ...WRITE,
        request: { params: IdParamSchema },
        responses: { 200: json(TriggerSchema, 'The trigger'), ...errorResponses },
      }),
      async (c) =>
        c.json(
          toTrigger(await setTriggerPaused(service, c.var.tenantId, c.req.valid('param').id, action === 'pause')),
          200,
        ),
    );
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/triggers/{id}/run',
      tags: ['triggers'],
      summary: 'Fire the trigger once now (whatever its overlap policy)',
      ...requires('runs:write'),
      request: { params: IdParamSchema },
      responses: { 202: json(z.object({ fired: z.literal(true) }), 'Fired'), ...errorResponses },
    }),
    async (c) => {
      const trigger = await deps.triggers.get(c.var.tenantId, c.req.valid('param').id);
      if (trigger.type === 'kafka') throw notFiring(trigger.id);
      await fireSchedule(deps.temporal, trigger.id);
      return c.json({ fired: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/triggers/{id}/backfill',
      tags: ['triggers'],
      summary: 'Take every firing the schedule would have had in [from, to)',
      description: 'Refused with 400 BACKFILL_TOO_LARGE, starting nothing, above BACKFILL_MAX_FIRINGS firings.',
      ...requires('runs:write'),
      request: { params: IdParamSchema, ...jsonBody(BackfillBodySchema) },
      responses: { 202: json(z.object({ accepted: z.literal(true) }), 'Accepted'), ...errorResponses },
    }),
    async (c) => {
      const trigger = await deps.triggers.get(c.var.tenantId, c.req.valid('param').id);
      if (trigger.type === 'kafka') throw notFiring(trigger.id);
      const { from, to, overlap } = c.req.valid('json');
      const range = { from: new Date(from), to: new Date(to) };
      const max = deps.config.BACKFILL_MAX_FIRINGS;
      const firings = await countFirings(deps.temporal, trigger, range, max);
      if (firings > max)
        throw new AppError({
          code: 'BACKFILL_TOO_LARGE',
          message: `the backfill would take more than ${max} firings (BACKFILL_MAX_FIRINGS); split it into smaller ranges`,
          httpStatus: 400,
          details: { max },
        });
      await backfillSchedule(deps.temporal, trigger.id, { ...range, overlap: overlap ?? 'allow_all' });
      return c.json({ accepted: true as const }, 202);
    },
  );

  app.route('/', triggerDeadLettersRoutes(deps));

  return app;
}

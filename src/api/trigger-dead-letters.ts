import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { KAFKA_DEAD_LETTER_REASONS as REASONS, type KafkaDeadLetterRow } from '../db/kafka-dead-letters-repo.js';
import { DEAD_LETTER_BOUNDS } from '../triggers/kafka/dead-letter-record.js';
import { redriveKafkaDeadLetter } from '../triggers/kafka/redrive.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, IdParamSchema, json, PageQuerySchema, problem } from './schemas.js';

const STATUSES = ['open', 'discarded', 'redriven'] as const;

const ENCODING = z.enum(['utf8', 'base64']).openapi({ description: 'utf8: as text; base64: the bytes were not UTF-8' });
const KafkaDeadLetterSchema = z
  .object({
    id: z.string(),
    triggerId: z.string(),
    topic: z.string(),
    partition: z.number().int(),
    offset: z.string(),
    key: z.string().nullable(),
    keyEncoding: ENCODING,
    reason: z.enum(REASONS).openapi({ description: 'Why the trigger could not use the message' }),
    error: z.string(),
    headers: z.array(
      z.object({ name: z.string(), value: z.string().nullable(), encoding: ENCODING, truncated: z.boolean() }),
    ),
    value: z
      .string()
      .nullable()
      .openapi({
        description: `The value as it came, cut at ${DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES} bytes (the whole message is on the dead-letter topic)`,
      }),
    valueEncoding: ENCODING,
    valueBytes: z.number().int().openapi({ description: 'The size of the value as it came' }),
    valueTruncated: z.boolean(),
    whole: z.boolean().openapi({ description: 'Nothing was cut (value, key, every header): it can be re-driven' }),
    messageTime: z.string().nullable(),
    status: z.enum(STATUSES),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
  })
  .openapi('KafkaDeadLetter');

const DeadLetterParamsSchema = IdParamSchema.extend({
  deadLetterId: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'deadLetterId', in: 'path' } }),
});

const view = (d: KafkaDeadLetterRow): z.infer<typeof KafkaDeadLetterSchema> => ({
  id: d.id,
  triggerId: d.triggerId,
  topic: d.topic,
  partition: d.partition,
  offset: d.offset,
  key: d.key.text,
  keyEncoding: d.key.encoding,
  reason: d.reason,
  error: d.error,
  headers: d.headers,
  value: d.value.text,
  valueEncoding: d.value.encoding,
  valueBytes: d.value.bytes,
  valueTruncated: d.value.truncated,
  whole: d.whole,
  messageTime: d.messageTime?.toISOString() ?? null,
  status: d.status,
  createdAt: d.createdAt.toISOString(),
  resolvedAt: d.resolvedAt?.toISOString() ?? null,
});

/**
 * The Kafka messages a trigger could not use (undecodable, too large, its filter or key failed,
 * the start refused), as the trigger service recorded them for the trigger's tenant: list, discard,
 * or re-drive. The whole message also sits on the trigger's dead-letter topic.
 */
export function triggerDeadLettersRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/triggers/{id}/dead-letters',
      tags: ['triggers'],
      summary: "A Kafka trigger's dead-lettered messages, newest first",
      ...requires('runs:read'),
      request: {
        params: IdParamSchema,
        query: PageQuerySchema.extend({
          status: z.enum(STATUSES).default('open'),
          reason: z.enum(REASONS).optional(),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(KafkaDeadLetterSchema), nextCursor: z.string().nullable() }), 'A page'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { cursor, limit, status, reason } = c.req.valid('query');
      await deps.triggers.get(c.var.tenantId, id);
      const found = await deps.kafkaDeadLetters.list(c.var.tenantId, id, { status, reason }, { cursor, limit });
      return c.json({ items: found.items.map(view), nextCursor: found.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/triggers/{id}/dead-letters/{deadLetterId}',
      tags: ['triggers'],
      summary: 'One dead-lettered message of a Kafka trigger',
      ...requires('runs:read'),
      request: { params: DeadLetterParamsSchema },
      responses: { 200: json(KafkaDeadLetterSchema, 'The dead letter'), ...errorResponses },
    }),
    async (c) => {
      const { id, deadLetterId } = c.req.valid('param');
      return c.json(view(await deps.kafkaDeadLetters.get(c.var.tenantId, id, deadLetterId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/triggers/{id}/dead-letters/{deadLetterId}',
      tags: ['triggers'],
      summary: 'Discard a dead-lettered message (it stays listed under status=discarded)',
      ...requires('runs:write'),
      request: { params: DeadLetterParamsSchema },
      responses: { 204: { description: 'Discarded' }, 409: problem('Already discarded'), ...errorResponses },
    }),
    async (c) => {
      const { id, deadLetterId } = c.req.valid('param');
      await deps.kafkaDeadLetters.resolve(c.var.tenantId, id, deadLetterId, 'discarded');
      c.var.logger.info({ triggerId: id, deadLetterId }, 'kafka dead letter discarded');
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/triggers/{id}/dead-letters/{deadLetterId}/redrive',
      tags: ['triggers'],
      summary: "Start the message's run now, through the trigger's filter and key as they are now",
      description:
        'The run is the one the trigger service would have started for the message (same id), so a later ' +
        'delivery of the message starts no second run. 409 NOT_REDRIVABLE when the message was stored cut, ' +
        'still cannot be decoded, or the filter does not match it.',
      ...requires('runs:write'),
      request: { params: DeadLetterParamsSchema },
      responses: {
        202: json(z.object({ runId: z.string() }), 'The run started'),
        409: problem('Already resolved, or not re-drivable'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id, deadLetterId } = c.req.valid('param');
      const { runId } = await redriveKafkaDeadLetter(deps, c.var.tenantId, id, deadLetterId, c.var.logger);
      c.var.logger.info({ triggerId: id, deadLetterId, runId }, 'kafka dead letter re-driven');
      return c.json({ runId }, 202);
    },
  );

  return app;
}

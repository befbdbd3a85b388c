import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { toMillis } from '../definitions/duration.js';
import {
  EVENT_ID_PATTERN,
  EVENT_ID_RULE,
  EVENT_KEY_PATTERN,
  EVENT_KEY_RULE,
  EVENT_NAME_PATTERN,
  EVENT_NAME_RULE,
} from '../definitions/event-names.js';
import { publishEvent } from '../runs/event-activities.js';
import { AppError } from '../shared/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json, problem } from './schemas.js';

const PostEventSchema = z
  .strictObject({
    name: z.string().regex(EVENT_NAME_PATTERN, EVENT_NAME_RULE).openapi({ example: 'payment.received' }),
    key: z.string().regex(EVENT_KEY_PATTERN, EVENT_KEY_RULE).openapi({ example: 'order-42' }),
    payload: z.unknown().optional().openapi({ description: "The event's payload: the waiting step's output" }),
    id: z.string().regex(EVENT_ID_PATTERN, EVENT_ID_RULE).optional().openapi({
      description: 'Makes the post idempotent: an event with an id already seen (within EVENT_BUFFER_TTL) is dropped',
    }),
  })
  .openapi('PostEvent');

/**
 * Events by key: `POST /v1/events` hands an event to the correlation workflow of its (tenant,
 * name, key), where `wait_for_event` steps with that key (and runs' `cancelOn`) receive it.
 * @example POST /v1/events {"name":"payment.received","key":"order-42","payload":{"amount":42},"id":"evt-1"} → 202 {"eventId":"evt-1"}
 */
export function eventsRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  const routing = {
    client: deps.temporal,
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    ttlMs: toMillis(deps.config.EVENT_BUFFER_TTL),
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/events',
      tags: ['events'],
      summary:
        'Post an event by key: every step waiting on (name, key) receives it once; with none waiting it is kept for EVENT_BUFFER_TTL',
      ...requires('runs:write'),
      request: { body: { content: { 'application/json': { schema: PostEventSchema } }, required: true } },
      responses: {
        202: json(z.object({ eventId: z.string() }), 'Accepted: Temporal holds the event'),
        413: problem('The payload is larger than EVENT_PAYLOAD_MAX_BYTES'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { name, key, payload = null, id } = c.req.valid('json');
      const bytes = Buffer.byteLength(JSON.stringify(payload));
      const max = deps.config.EVENT_PAYLOAD_MAX_BYTES;
      if (bytes > max)
        throw new AppError({
          code: 'EVENT_TOO_LARGE',
          message: `the event's payload is ${bytes} bytes as JSON, more than the limit of ${max}`,
          httpStatus: 413,
        });
      const eventId = id ?? `evt-${randomUUID()}`;
      await publishEvent(routing, { tenantId: c.var.tenantId, name, key, event: { eventId, payload, at: Date.now() } });
      c.var.logger.info({ event: name, eventId }, 'event accepted');
      return c.json({ eventId }, 202);
    },
  );
  return app;
}

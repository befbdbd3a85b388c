import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { isDeadLetterTopic, topicForbidden, type TopicAccess } from '../activities/kafka/topic-access.js';
import { isTemplate } from '../definitions/expressions/templates.js';
import type { Definition } from '../definitions/schema.js';
import { allSteps } from '../definitions/validate.js';
import { AppError } from '../shared/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json } from './schemas.js';

/** A granted topic, or a prefix when it ends in `*` (Kafka's topic characters otherwise). */
const GRANT = /^[a-zA-Z0-9._-]{1,249}\*?$/;

const TenantParamSchema = z.object({
  tenant: z
    .string()
    .min(1)
    .max(200)
    .regex(/^\P{Cc}+$/u, 'a tenant id has no control characters')
    .openapi({ param: { name: 'tenant', in: 'path' }, example: 'acme' }),
});
const GrantsSchema = z
  .strictObject({
    topics: z
      .array(z.string().regex(GRANT, 'a topic name, or a prefix ending in "*"'))
      .max(1000)
      .openapi({ example: ['orders', 'shared.events.*'] }),
  })
  .openapi('TopicGrants');

/**
 * Refuses a definition whose `kafka` steps name a topic the tenant may not use, when the topic is
 * written out; a templated topic is checked by the step when it runs.
 */
export async function assertStepTopics(topics: TopicAccess, tenantId: string, definition: Definition): Promise<void> {
  for (const { step, pointer } of allSteps(definition)) {
    const topic = step.type === 'kafka' ? step.config.topic : undefined;
    if (typeof topic !== 'string' || isTemplate(topic)) continue;
    try {
      await topics.check(tenantId, topic);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'KAFKA_TOPIC_FORBIDDEN') throw err;
      throw new AppError({
        code: err.code,
        message: `${pointer}/config/topic: ${err.message}`,
        httpStatus: err.httpStatus,
        details: { topic, pointer: `${pointer}/config/topic` },
      });
    }
  }
}

const putGrants = createRoute({
  method: 'put',
  path: '/tenants/{tenant}/topics',
  tags: ['admin'],
  summary: "Replace the Kafka topics granted to a tenant beyond its own prefix (an operator's act: it crosses tenants)",
  ...requires('operator'),
  request: {
    params: TenantParamSchema,
    body: { content: { 'application/json': { schema: GrantsSchema } }, required: true },
  },
  responses: { 200: json(GrantsSchema, 'The grants now'), ...errorResponses },
});

const getGrants = createRoute({
  method: 'get',
  path: '/tenants/{tenant}/topics',
  tags: ['admin'],
  summary: 'The Kafka topics granted to a tenant through the API (KAFKA_TOPIC_GRANTS adds to them)',
  ...requires('operator'),
  request: { params: TenantParamSchema },
  responses: { 200: json(GrantsSchema, 'The grants'), ...errorResponses },
});

/** `/v1/admin`: topic grants. */
export function kafkaTopicsAdminRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(putGrants, async (c) => {
    const { topics } = c.req.valid('json');
    const dlq = topics.find((t) => isDeadLetterTopic(t.replace(/\*$/, ''), deps.config.KAFKA_DLQ_TOPIC));
    if (dlq) throw topicForbidden(dlq, 'dead-letter topics are never granted');
    return c.json({ topics: await deps.topicGrants.replace(c.req.valid('param').tenant, topics) }, 200);
  });
  app.openapi(getGrants, async (c) =>
    c.json({ topics: await deps.topicGrants.list(c.req.valid('param').tenant) }, 200),
  );
  return app;
}

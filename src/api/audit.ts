import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AuditRow } from '../db/audit-repo.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json, PageQuerySchema } from './schemas.js';

const AuditEventSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    tenantId: z.string(),
    subject: z.string().openapi({ description: "The token's `sub` (`anonymous` when auth is off)" }),
    method: z.string(),
    route: z.string().openapi({ description: 'The route pattern', example: '/v1/workflows/:id' }),
    targetId: z.string().nullable().openapi({ description: 'What the call acted on (or created)' }),
    status: z.number().int().openapi({ description: 'The status code answered' }),
    requestId: z.string(),
    fields: z.array(z.string()).openapi({ description: "The body's top-level field names; values are never kept" }),
  })
  .openapi('AuditEvent');

/** A filter value as stored: no control characters (PostgreSQL text holds no NUL). */
const text = z
  .string()
  .min(1)
  .max(200)
  .regex(/^\P{Cc}+$/u, 'no control characters');

const listAudit = createRoute({
  method: 'get',
  path: '/audit',
  tags: ['audit'],
  summary: "The tenant's audit trail: every mutating call, newest first (keyset pagination)",
  ...requires('admin'),
  request: {
    query: PageQuerySchema.extend({
      since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'at or after' }),
      until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'before' }),
      subject: text.optional(),
      target: text.optional().openapi({ description: 'the target id' }),
    }),
  },
  responses: {
    200: json(z.object({ items: z.array(AuditEventSchema), nextCursor: z.string().nullable() }), 'A page'),
    ...errorResponses,
  },
});

const toEvent = (r: AuditRow) => ({ ...r, at: r.at.toISOString() });

/** `GET /v1/audit`: who changed what, kept for AUDIT_RETENTION_DAYS. */
export function auditRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(listAudit, async (c) => {
    const q = c.req.valid('query');
    const filter = {
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
      subject: q.subject,
      targetId: q.target,
    };
    const { items, nextCursor } = await deps.audit.list(c.var.tenantId, filter, q);
    return c.json({ items: items.map(toEvent), nextCursor }, 200);
  });
  return app;
}

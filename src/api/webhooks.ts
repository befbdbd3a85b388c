import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { AppError } from '../shared/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { closeAfterAnswer, readBodyWithin } from './middleware/body-timeout.js';
import { bodyProblem } from './middleware/json-depth.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, IdParamSchema, json } from './schemas.js';
import { triggerRun } from '../runs/start-run.js';
import { verifySignature } from './webhook-signature.js';
import { answerWith, awaitRunAnswer, WEBHOOK_WAIT_MS } from './run-answer.js';

export { sign } from './webhook-signature.js';

/** `/v1/workflows/{id}/webhooks`: create (the token is shown once), list (no values), revoke. */
export function webhookAdminRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/webhooks',
      tags: ['webhooks'],
      summary: 'Create a webhook trigger; its token (and signing secret) are shown only now',
      description: 'A webhook starts runs, so creating one needs runs:write as well as workflows:write.',
      ...requires('workflows:write', 'runs:write'),
      request: {
        params: IdParamSchema,
        body: {
          content: {
            'application/json': {
              schema: z.object({
                signed: z.boolean().default(false),
                respond: z.enum(['immediately', 'onCompletion']).default('immediately').openapi({
                  description:
                    "`immediately`: 202 with the run id. `onCompletion`: the caller waits (up to 30 s) for the run's result, or for its first `respond` step's answer; past the wait, the 202.",
                }),
              }),
            },
          },
          required: false,
        },
      },
      responses: {
        201: json(
          z.object({
            id: z.string(),
            token: z.string(),
            url: z.string(),
            respond: z.string(),
            signingSecret: z.string().optional(),
          }),
          'Created',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const wf = await deps.workflows.get(c.var.tenantId, id);
      const body = c.req.valid('json');
      const respond = body?.respond ?? 'immediately';
      const hook = await deps.webhooks.create(c.var.tenantId, wf.id, body?.signed ?? false, respond);
      return c.json({ ...hook, respond, url: `/hooks/${hook.token}` }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/webhooks',
      tags: ['webhooks'],
      summary: "List a workflow's webhooks (never their tokens)",
      ...requires('workflows:read'),
      request: { params: IdParamSchema },
      responses: {
        200: json(
          z.object({
            items: z.array(
              z.object({
                id: z.string(),
                signed: z.boolean(),
                respond: z.string(),
                createdAt: z.string(),
                revokedAt: z.string().nullable(),
              }),
            ),
          }),
          'Webhooks',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const wf = await deps.workflows.get(c.var.tenantId, c.req.valid('param').id);
      const items = await deps.webhooks.list(c.var.tenantId, wf.id);
      return c.json(
        {
          items: items.map((h) => ({
            id: h.id,
            signed: h.signed,
            respond: h.respond,
            createdAt: h.createdAt.toISOString(),
            revokedAt: h.revokedAt?.toISOString() ?? null,
          })),
        },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/webhooks/{hookId}',
      tags: ['webhooks'],
      summary: 'Revoke a webhook: its token answers 404 from now on',
      ...requires('workflows:write'),
      request: {
        params: IdParamSchema.extend({
          hookId: z
            .string()
            .max(100)
            .openapi({ param: { name: 'hookId', in: 'path' } }),
        }),
      },
      responses: { 204: { description: 'Revoked' }, ...errorResponses },
    }),
    async (c) => {
      const { id, hookId } = c.req.valid('param');
      await deps.webhooks.revoke(c.var.tenantId, id, hookId);
      return c.body(null, 204);
    },
  );
  return app;
}

/**
 * `POST /hooks/{token}`: the public trigger. The body is the trigger payload. A signed hook needs
 * `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` from the last 5
 * minutes, and each signature starts at most one run: a repeat gives the same run, a replay
 * dressed with another event id is refused. `Idempotency-Key`, else `Webhook-Id` or `X-Event-Id`
 * (the sender's event id), makes a repeated event give the same run.
 */
export function hookRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.post('/:token', async (c) => {
    // Answered before the body is read: an unknown or revoked token costs no wait for a body.
    const hook = await deps.webhooks.resolve(c.req.param('token')).catch((err: unknown) => {
      closeAfterAnswer(c);
      throw err;
    });
    const raw = await readBodyWithin(c, deps.config.API_BODY_TIMEOUT_MS);
    const problem = bodyProblem(raw, deps.config.API_JSON_MAX_DEPTH);
    if (problem) throw problem;
    let key = deliveryKey(c.req.header('idempotency-key'), c.req.header('webhook-id') ?? c.req.header('x-event-id'));
    if (hook.signingSecret) {
      const { signature, freshUntil } = verifySignature(hook.signingSecret, raw, c.req.header('x-signature'));
      key ??= `signature:${signature}`;
      // A little past the window, for clocks of API replicas and the database that disagree.
      const firstKey = await deps.webhooks.claimDelivery(
        hook.id,
        signature,
        key,
        new Date(freshUntil.getTime() + 60_000),
      );
      if (firstKey !== key)
        throw new AppError({
          code: 'WEBHOOK_REPLAYED',
          message: 'this signed request was already delivered with another event id',
          httpStatus: 409,
        });
    }
    const { runId, responds } = await triggerRun(
      deps,
      {
        tenantId: hook.tenantId,
        workflowId: hook.workflowId,
        payload: parsePayload(raw),
        idempotencyKey: key,
        source: { type: 'webhook' },
      },
      c.var.logger,
    );
    if (hook.respond === 'immediately') return c.json({ runId }, 202);
    const signal = c.req.raw.signal;
    return answerWith(
      c,
      runId,
      await awaitRunAnswer(deps.temporal, runId, { waitMs: WEBHOOK_WAIT_MS, responds, signal }),
    );
  });
  return app;
}

function parsePayload(raw: string): unknown {
  if (raw.trim() === '') return null;
  try {
    return JSON.parse(raw);
  } catch {
    throw new AppError({ code: 'MALFORMED_REQUEST', message: 'the body is not JSON', httpStatus: 400 });
  }
}

/** The caller's own key wins; an event id is namespaced so it never meets an API key by chance. */
function deliveryKey(idempotencyKey: string | undefined, eventId: string | undefined): string | undefined {
  for (const [name, value] of [
    ['Idempotency-Key', idempotencyKey],
    ['Webhook-Id / X-Event-Id', eventId],
  ] as const) {
    if (value !== undefined && (value.length === 0 || value.length > 200))
      throw new AppError({ code: 'INVALID_REQUEST', message: `${name} must be 1-200 characters`, httpStatus: 400 });
  }
  return idempotencyKey ?? (eventId === undefined ? undefined : `event:${eventId}`);
}

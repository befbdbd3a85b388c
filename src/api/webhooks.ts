import { createHmac, timingSafeEqual } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { AppError } from '../shared/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { errorResponses, IdParamSchema, json } from './schemas.js';
import { triggerRun } from './trigger.js';

/** How far a signature's timestamp may be from now: older bodies are replays. */
const SIGNATURE_TOLERANCE_S = 300;

/** `/v1/workflows/{id}/webhooks`: create (the token is shown once), list (no values), revoke. */
export function webhookAdminRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/webhooks',
      tags: ['webhooks'],
      summary: 'Create a webhook trigger; its token (and signing secret) are shown only now',
      request: { params: IdParamSchema, body: { content: { 'application/json': { schema: z.object({ signed: z.boolean().default(false) }) } }, required: false } },
      responses: { 201: json(z.object({ id: z.string(), token: z.string(), url: z.string(), signingSecret: z.string().optional() }), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const wf = await deps.workflows.get(c.var.tenantId, id);
      const hook = await deps.webhooks.create(c.var.tenantId, wf.id, c.req.valid('json')?.signed ?? false);
      return c.json({ ...hook, url: `/hooks/${hook.token}` }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/webhooks',
      tags: ['webhooks'],
      summary: "List a workflow's webhooks (never their tokens)",
      request: { params: IdParamSchema },
      responses: { 200: json(z.object({ items: z.array(z.object({ id: z.string(), signed: z.boolean(), createdAt: z.string(), revokedAt: z.string().nullable() })) }), 'Webhooks'), ...errorResponses },
    }),
    async (c) => {
      const wf = await deps.workflows.get(c.var.tenantId, c.req.valid('param').id);
      const items = await deps.webhooks.list(c.var.tenantId, wf.id);
      return c.json({ items: items.map((h) => ({ id: h.id, signed: h.signed, createdAt: h.createdAt.toISOString(), revokedAt: h.revokedAt?.toISOString() ?? null })) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/webhooks/{hookId}',
      tags: ['webhooks'],
      summary: 'Revoke a webhook: its token answers 404 from now on',
      request: { params: IdParamSchema.extend({ hookId: z.string().max(100).openapi({ param: { name: 'hookId', in: 'path' } }) }) },
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
 * `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` from the last 5 minutes.
 */
export function hookRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.post('/:token', async (c) => {
    const hook = await deps.webhooks.resolve(c.req.param('token'));
    const raw = await c.req.text();
    if (hook.signingSecret) verifySignature(hook.signingSecret, raw, c.req.header('x-signature'));
    const { runId, replayed } = await triggerRun(deps, { tenantId: hook.tenantId, workflowId: hook.workflowId, payload: parsePayload(raw), idempotencyKey: idempotencyKey(c.req.header('idempotency-key')) });
    deps.metrics.triggers.inc({ result: replayed ? 'replayed' : 'accepted' });
    return c.json({ runId }, 202);
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

function idempotencyKey(value: string | undefined): string | undefined {
  if (value !== undefined && (value.length === 0 || value.length > 200)) throw new AppError({ code: 'INVALID_REQUEST', message: 'Idempotency-Key must be 1-200 characters', httpStatus: 400 });
  return value;
}

export function sign(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

function verifySignature(secret: string, body: string, header: string | undefined): void {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.trim().split('=', 2)));
  const t = Number(parts.t);
  const given = Buffer.from(String(parts.v1 ?? ''), 'hex');
  const expected = Buffer.from(createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex'), 'hex');
  const fresh = Number.isFinite(t) && Math.abs(Date.now() / 1000 - t) <= SIGNATURE_TOLERANCE_S;
  if (!fresh || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError({ code: 'INVALID_SIGNATURE', message: 'X-Signature is missing, stale or wrong', httpStatus: 401 });
  }
}

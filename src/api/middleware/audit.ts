import type { Context, MiddlewareHandler } from 'hono';
import type { AuditEvent } from '../../db/audit-repo.js';
import type { ApiEnv } from '../env.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Calls that change nothing an operator audits, or that are the data plane: a run start is already
 * a row of the run index (with its source), and starts are the one hot path; validation stores
 * nothing; /codec only decodes.
 */
const UNAUDITED = new Set(['POST /v1/workflows/:id/runs', 'POST /v1/workflows/validate']);
const UNAUDITED_PATHS = /^\/(hooks|codec|approvals)(\/|$)/;

/** Route parameters naming what a call acts on, the most specific first. */
const TARGET_PARAMS = ['deadLetterId', 'hookId', 'id', 'name', 'tenant'] as const;
const MAX_FIELDS = 50;
const MAX_NAME = 100;

/** A name cut to `max`, without the control characters PostgreSQL text cannot hold (NUL). */
const clean = (value: string, max: number): string => value.replace(/\p{Cc}/gu, '\uFFFD').slice(0, max);

/**
 * Writes one audit event per mutating call of an authenticated tenant (console actions are API
 * calls too): time, tenant, subject, method and route pattern, target id, status, request id, and
 * the names of the body's top-level fields, never their values. The write is awaited, in a group
 * commit with concurrent calls, so an answered call is recorded; a failed write is logged, never
 * turned into a failed answer, since the call itself already happened.
 */
export function auditTrail(record: (event: AuditEvent) => Promise<void>): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const at = new Date();
    await next();
    if (!MUTATING.has(c.req.method) || UNAUDITED_PATHS.test(c.req.path) || !c.var.tenantId) return;
    const route = c.req.routePath;
    // No route matched (only the app's own middleware, at `/*`): nothing was acted on.
    if (route === '/*' || UNAUDITED.has(`${c.req.method} ${route}`)) return;
    const event: AuditEvent = {
      at,
      tenantId: clean(c.var.tenantId, 200),
      subject: clean(c.var.subject, 200),
      method: c.req.method,
      route,
      targetId: await targetOf(c),
      status: c.res.status,
      requestId: clean(c.var.requestId, 100),
      fields: await fieldNames(c),
    };
    await record(event).catch((err: unknown) =>
      c.var.logger.error({ err, route, status: event.status }, 'the audit event could not be written'),
    );
  };
}

/** The id the route names, or for a creation the id (or name) it answered with. */
async function targetOf(c: Context<ApiEnv>): Promise<string | null> {
  const params: Record<string, string> = c.req.param();
  if (c.res.status === 201 && c.res.headers.get('content-type')?.startsWith('application/json')) {
    const created: unknown = await c.res
      .clone()
      .json()
      .catch(() => undefined);
    const id = isRecord(created) ? (created.id ?? created.name) : undefined;
    if (typeof id === 'string') return clean(id, 200);
  }
  for (const name of TARGET_PARAMS) if (params[name]) return clean(params[name], 200);
  return null;
}

/** The top-level keys of a JSON body the route read (a body it never read changed nothing). */
async function fieldNames(c: Context<ApiEnv>): Promise<string[]> {
  const text = c.req.bodyCache.text;
  if (!text) return [];
  try {
    const body: unknown = JSON.parse(await text);
    return isRecord(body)
      ? Object.keys(body)
          .slice(0, MAX_FIELDS)
          .map((k) => clean(k, MAX_NAME))
      : [];
  } catch {
    return [];
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

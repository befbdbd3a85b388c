import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';
import { problemResponse } from '../problem.js';

/**
 * `admin` holds every tenant scope. `operator` is not a tenant's: it reads every tenant's payloads
 * through /codec, so no `admin` implies it.
 */
export const SCOPES = [
  'workflows:read',
  'workflows:write',
  'runs:read',
  'runs:write',
  'secrets:write',
  'admin',
  'operator',
] as const;
export type Scope = (typeof SCOPES)[number];

/** The bearer security scheme of the OpenAPI document; a route's requirement lists the scopes it needs. */
export const BEARER_SCHEME = 'bearer';
export const BEARER_SECURITY = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: `A JWT with a tenant claim and its scopes in \`scope\` or \`scp\`: ${SCOPES.join(', ')}. \`admin\` holds every scope but \`operator\`.`,
} as const;

/**
 * A route's access rule, spread into its `createRoute`: the OpenAPI `security` the document shows
 * and the middleware that enforces it, both from the same list, so they cannot disagree. Every
 * listed scope is needed (`admin` stands for all of them).
 * @example createRoute({ method: 'post', path: '/', ...requires('workflows:write'), ... })
 */
export function requires(...scopes: [Scope, ...Scope[]]) {
  return {
    security: [{ [BEARER_SCHEME]: [...scopes] }],
    middleware: [requireScopes(...scopes)],
  };
}

/** The scopes of `needed` the caller lacks (`admin` stands for every one but `operator`). */
export function missingScopes(c: Context<ApiEnv>, needed: readonly Scope[]): Scope[] {
  const granted = c.var.scopes;
  return needed.filter((s) => !granted?.has(s) && !(s !== 'operator' && granted?.has('admin')));
}

/** Throws 403 FORBIDDEN unless the caller has every scope in `needed`; for rules that depend on the body. */
export function assertScopes(c: Context<ApiEnv>, needed: readonly Scope[], why: string): void {
  const missing = missingScopes(c, needed);
  if (missing.length) throw forbidden(missing, why);
}

/** The enforcing half of `requires`, for routes outside the OpenAPI document (e.g. /codec). */
export function requireScopes(...needed: [Scope, ...Scope[]]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const missing = missingScopes(c, needed);
    if (missing.length) return problemResponse(c, forbidden(missing));
    await next();
    return undefined;
  };
}

function forbidden(missing: readonly Scope[], why?: string): AppError {
  const list = missing.map((s) => `'${s}'`).join(' and ');
  const message = `this needs the ${list} scope${missing.length > 1 ? 's' : ''}${why ? ` ${why}` : ''}`;
  return new AppError({ code: 'FORBIDDEN', message, httpStatus: 403 });
}

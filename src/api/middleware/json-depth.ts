import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';
import { problemResponse } from '../problem.js';
import { nestedDeeperThan } from '../../shared/json-depth.js';
import { readBodyWithin } from './body-timeout.js';

/**
 * Every request body is JSON in this API, and parsers, validators and the payload converter
 * recurse over nesting: a body deeper than `maxDepth` is refused with 400 before anything parses
 * it. The body read here is cached by Hono, so handlers and validators read it again for free.
 * It must arrive within `bodyTimeoutMs` (408 BODY_TIMEOUT). Paths in `deferred` read their body
 * themselves, once they know it is wanted (a webhook whose token exists), and check it with
 * `tooDeep`.
 */
export function jsonDepthLimit(
  maxDepth: number,
  bodyTimeoutMs: number,
  deferred: (path: string) => boolean = () => false,
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (c.req.raw.body === null || ['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next();
    if (deferred(c.req.path)) return next();
    if (nestedDeeperThan(await readBodyWithin(c, bodyTimeoutMs), maxDepth)) {
      return problemResponse(
        c,
        new AppError({
          code: 'JSON_TOO_DEEP',
          message: `the body nests arrays and objects deeper than ${maxDepth} levels`,
          httpStatus: 400,
        }),
      );
    }
    return next();
  };
}

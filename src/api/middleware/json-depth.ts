import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';
import { problemResponse } from '../problem.js';
import { nestedDeeperThan } from '../../shared/json-depth.js';

/**
 * Every request body is JSON in this API, and parsers, validators and the payload converter
 * recurse over nesting: a body deeper than `maxDepth` is refused with 400 before anything parses
 * it. The body read here is cached by Hono, so handlers and validators read it again for free.
 */
export function jsonDepthLimit(maxDepth: number): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (c.req.raw.body === null || ['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next();
    if (nestedDeeperThan(await c.req.text(), maxDepth)) {
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

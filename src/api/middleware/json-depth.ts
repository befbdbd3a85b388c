import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';
import { problemResponse } from '../problem.js';
import { scanJson, unstorableText } from '../../shared/json-depth.js';
import { readBodyWithin } from './body-timeout.js';

/**
 * Every request body is JSON in this API, checked once here before any route reads it (the body
 * read here is cached by Hono, so handlers and validators read it again for free); see bodyProblem.
 * It must arrive within `bodyTimeoutMs` (408 BODY_TIMEOUT). Paths in `deferred` read their body
 * themselves, once they know it is wanted (a webhook whose token exists), and check it with
 * `bodyProblem`.
 */
export function jsonDepthLimit(
  maxDepth: number,
  bodyTimeoutMs: number,
  deferred: (path: string) => boolean = () => false,
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (c.req.raw.body === null || ['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next();
    if (deferred(c.req.path)) return next();
    const problem = bodyProblem(await readBodyWithin(c, bodyTimeoutMs), maxDepth);
    return problem ? problemResponse(c, problem) : next();
  };
}

/**
 * What is wrong with a JSON body before anything parses it, if anything:
 * - parsers, validators and the payload converter recurse over nesting: a body deeper than
 *   `maxDepth` is refused with 400 JSON_TOO_DEEP before anything parses it;
 * - PostgreSQL refuses a NUL character in `text` and `jsonb` and a lone surrogate in `jsonb`: a
 *   body with either in any string is refused with 400 INVALID_TEXT and its JSON pointer, so no
 *   route reaches the database with it (a 500 there, or a half-done write). Only a body whose one
 *   pass found such an escape is parsed here; one that does not parse is left to its route.
 */
export function bodyProblem(text: string, maxDepth: number): AppError | undefined {
  const scan = scanJson(text, maxDepth);
  if (scan.tooDeep)
    return new AppError({
      code: 'JSON_TOO_DEEP',
      message: `the body nests arrays and objects deeper than ${maxDepth} levels`,
      httpStatus: 400,
    });
  const pointer = scan.suspectText ? unstorableText(parsed(text)) : undefined;
  if (pointer === undefined) return undefined;
  return new AppError({
    code: 'INVALID_TEXT',
    message: 'the body holds text that cannot be stored (a NUL character or a lone surrogate)',
    httpStatus: 400,
    details: [{ pointer, message: 'a NUL character (\\u0000) or a lone surrogate cannot be stored' }],
  });
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

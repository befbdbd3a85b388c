import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';
import { problemResponse } from '../problem.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const CLOSERS = new Set([0x5d, 0x7d]); // ] }

/**
 * Whether a JSON text nests arrays and objects deeper than `max`, found by one pass over the
 * characters (brackets inside strings do not count) that stops at the first level too deep. It
 * never parses, so it is safe on any input, JSON or not.
 * @example nestedDeeperThan('[[1]]', 1) // true
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i++;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) inString = true;
    else if (OPENERS.has(ch)) {
      if (++depth > max) return true;
    } else if (CLOSERS.has(ch)) depth--;
  }
  return false;
}

/**
 * Every request body is JSON in this API, and parsers, validators and the payload converter
 * recurse over nesting: a body deeper than `maxDepth` is refused with 400 before anything parses
 * it. The body read here is cached by Hono, so handlers and validators read it again for free.
 */
export function jsonDepthLimit(maxDepth: number): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (c.req.raw.body === null || ['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next();
    if (nestedDeeperThan(await c.req.text(), maxDepth)) {
      return problemResponse(c, new AppError({ code: 'JSON_TOO_DEEP', message: `the body nests arrays and objects deeper than ${maxDepth} levels`, httpStatus: 400 }));
    }
    return next();
  };
}

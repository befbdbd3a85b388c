import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isConnectionError } from '../db/pool.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { redactPath } from './middleware/redact-path.js';

/** RFC 9457 problem details; `type` is stable per error code, `errors` lists definition problems. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://mini-zaps.dev/problems/invalid-definition' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: 'INVALID_DEFINITION' }),
    instance: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');
export type Problem = z.infer<typeof ProblemSchema>;

export const problemType = (code: string) => `https://mini-zaps.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function toProblem(err: AppError, instance?: string): Problem {
  const errors = Array.isArray(err.details) ? { errors: err.details } : {};
  return {
    type: problemType(err.code),
    title: TITLES[err.httpStatus] ?? 'Error',
    status: err.httpStatus,
    detail: err.message,
    code: err.code,
    ...(instance ? { instance } : {}),
    ...errors,
  };
}

const isErrorStatus = (n: number): n is ContentfulStatusCode => Number.isInteger(n) && n >= 400 && n <= 599;

export function problemResponse(c: Context, err: AppError): Response {
  const status = isErrorStatus(err.httpStatus) ? err.httpStatus : 500;
  return c.body(JSON.stringify(toProblem(err, redactPath(c.req.path))), status, {
    'content-type': 'application/problem+json',
  });
}

/** The one place errors become HTTP answers. Unknown errors are 500s and are logged with detail. */
export function errorHandler(logger: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof AppError) {
      if (err.httpStatus >= 500) logger.warn({ err, path: redactPath(c.req.path) }, err.message);
      return problemResponse(c, err);
    }
    if (isConnectionError(err)) {
      logger.warn({ err, path: redactPath(c.req.path) }, 'database unavailable');
      return problemResponse(
        c,
        new AppError({
          code: 'UNAVAILABLE',
          message: 'the database is unavailable; retry later',
          httpStatus: 503,
          retryable: true,
        }),
      );
    }
    logger.error({ err, path: redactPath(c.req.path) }, 'unhandled error');
    return problemResponse(c, new AppError({ code: 'INTERNAL', message: 'internal error', httpStatus: 500 }));
  };
}

import { jsonPointer } from './json-values.js';

/**
 * The one error type of the project. `code` is stable (clients and dashboards key on it),
 * `retryable` splits operational faults (retry) from user mistakes (do not), `httpStatus` is what
 * the API answers, `details` carries structured context such as validation problems.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly httpStatus: number;
  readonly details: unknown;
  /** For retryable errors: how long the other side asked us to wait (e.g. HTTP Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(opts: {
    code: string;
    message: string;
    retryable?: boolean;
    httpStatus?: number;
    details?: unknown;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(opts.message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = opts.code;
    this.retryable = opts.retryable ?? false;
    this.httpStatus = opts.httpStatus ?? 500;
    this.details = opts.details;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** One problem found in a workflow definition, located by an RFC 6901 JSON pointer. */
export interface DefinitionProblem {
  pointer: string;
  message: string;
}

/** A schema's issues (zod's) as problems, each pointing at its place below `prefix`. */
export const issueProblems = (
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix = '',
): DefinitionProblem[] =>
  issues.map((issue) => ({ pointer: `${prefix}${jsonPointer(issue.path)}`, message: issue.message }));

export const notFound = (what: string, id: string) =>
  new AppError({ code: 'NOT_FOUND', message: `${what} '${id}' does not exist`, httpStatus: 404 });

export const invalidDefinition = (problems: DefinitionProblem[]) =>
  new AppError({
    code: 'INVALID_DEFINITION',
    message: `the workflow definition has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    httpStatus: 400,
    details: problems,
  });

export const unavailable = (what: string, cause: unknown) =>
  new AppError({
    code: 'UNAVAILABLE',
    message: `${what} is unavailable; retry later`,
    httpStatus: 503,
    retryable: true,
    cause,
  });

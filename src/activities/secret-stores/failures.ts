import { AppError } from '../../shared/errors.js';

/**
 * The three ways reading an external secret fails. Not found and access denied are the tenant's
 * to fix (not retried); a store that cannot be reached is retried by the step's policy. Messages
 * name the reference or the path, never a value.
 */
export const secretNotFound = (what: string, cause?: unknown) =>
  new AppError({ code: 'SECRET_NOT_FOUND', message: what, httpStatus: 404, cause });

export const secretAccessDenied = (what: string, cause?: unknown) =>
  new AppError({ code: 'SECRET_ACCESS_DENIED', message: what, httpStatus: 403, cause });

export const secretStoreUnavailable = (what: string, cause?: unknown) =>
  new AppError({ code: 'SECRET_STORE_UNAVAILABLE', message: what, httpStatus: 503, retryable: true, cause });

/** The same failure, its message led by the reference it was reading. */
export function naming(ref: string, err: unknown): unknown {
  if (!(err instanceof AppError)) return err;
  return new AppError({
    code: err.code,
    message: `secret '${ref}': ${err.message}`,
    httpStatus: err.httpStatus,
    retryable: err.retryable,
    details: { reference: ref },
    cause: err,
  });
}

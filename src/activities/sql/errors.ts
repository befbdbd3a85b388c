import { AppError } from '../../shared/errors.js';

const field = (err: unknown, key: string): unknown =>
  typeof err === 'object' && err !== null ? Reflect.get(err, key) : undefined;

/** SQLSTATE classes of faults that may pass: connection, transaction rollback, resources, operator intervention, system. */
const TRANSIENT_CLASSES = ['08', '40', '53', '57', '58'];

/**
 * A PostgreSQL failure as a step error: bad credentials, a missing database, and mistakes in the
 * query are not retried; a server that is down, busy or restarting is; so is a timeout.
 */
export function sqlError(err: unknown, signal: AbortSignal): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (signal.aborted)
    return new AppError({ code: 'SQL_TIMEOUT', message: 'the query did not finish in time', retryable: true });
  const sqlstate = field(err, 'code');
  if (typeof sqlstate !== 'string' || !/^[0-9A-Z]{5}$/.test(sqlstate)) {
    return new AppError({
      code: 'SQL_UNAVAILABLE',
      message: `the database could not be reached: ${message}`,
      retryable: true,
    });
  }
  const details = { sqlstate };
  if (sqlstate === '28P01' || sqlstate === '28000')
    return new AppError({
      code: 'SQL_AUTH_FAILED',
      message: `the database refused the credentials: ${message}`,
      httpStatus: 400,
      details,
    });
  if (sqlstate === '3D000') return new AppError({ code: 'SQL_BAD_CONNECTION', message, httpStatus: 400, details });
  if (sqlstate === '25006')
    return new AppError({
      code: 'SQL_READ_ONLY',
      message: `${message} (the step is read-only; set readOnly: false to write)`,
      httpStatus: 400,
      details,
    });
  if (sqlstate === '57014') return new AppError({ code: 'SQL_TIMEOUT', message, retryable: true, details });
  if (TRANSIENT_CLASSES.includes(sqlstate.slice(0, 2)))
    return new AppError({ code: 'SQL_UNAVAILABLE', message, retryable: true, details });
  return new AppError({ code: 'SQL_QUERY_ERROR', message, httpStatus: 400, details });
}

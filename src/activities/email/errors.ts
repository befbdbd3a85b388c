import { AppError } from '../../shared/errors.js';

const field = (err: unknown, key: string): unknown =>
  typeof err === 'object' && err !== null ? Reflect.get(err, key) : undefined;

/**
 * An SMTP failure as a step error: bad credentials and a permanent refusal (5xx) are not retried,
 * a relay that is down, busy (4xx) or slow is.
 */
export function smtpError(err: unknown, signal: AbortSignal): AppError {
  if (err instanceof AppError) return err;
  const code = field(err, 'code');
  const status = Number(field(err, 'responseCode'));
  const message = err instanceof Error ? err.message : String(err);
  if (signal.aborted)
    return new AppError({ code: 'EMAIL_TIMEOUT', message: 'the SMTP relay did not answer in time', retryable: true });
  if (code === 'EAUTH')
    return new AppError({
      code: 'EMAIL_AUTH_FAILED',
      message: `the SMTP relay refused the credentials: ${message}`,
      httpStatus: 400,
    });
  if (code === 'ETIMEDOUT')
    return new AppError({ code: 'EMAIL_TIMEOUT', message: `the SMTP relay timed out: ${message}`, retryable: true });
  if (code === 'EENVELOPE' || (status >= 500 && status < 600))
    return new AppError({
      code: 'EMAIL_REJECTED',
      message: `the SMTP relay refused the message: ${message}`,
      httpStatus: 400,
    });
  return new AppError({
    code: 'EMAIL_UNAVAILABLE',
    message: `the SMTP relay could not be used: ${message}`,
    retryable: true,
  });
}

import { AppError } from '../../shared/errors.js';

const AUTH_ERRORS = [
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
];
const TRANSIENT_ERRORS = ['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited'];

/** Throws the step error a Web API answer `{ ok: false, error }` stands for; bad credentials are not retried. */
export function slackFailure(body: unknown): void {
  if (typeof body !== 'object' || body === null || Reflect.get(body, 'ok') === true) return;
  const raw = Reflect.get(body, 'error');
  const error = typeof raw === 'string' ? raw : 'unknown_error';
  if (AUTH_ERRORS.includes(error))
    throw new AppError({ code: 'SLACK_AUTH_FAILED', message: `Slack refused the token: ${error}`, httpStatus: 400 });
  const retryable = TRANSIENT_ERRORS.includes(error);
  throw new AppError({
    code: `SLACK_${error
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .slice(0, 60)}`,
    message: `Slack answered ${error}`,
    retryable,
    httpStatus: retryable ? 503 : 400,
  });
}

/** A webhook's refusal: a revoked or unknown hook is not retried (Slack answers 403, 404 or 410). */
export function webhookFailure(err: unknown): unknown {
  if (!(err instanceof AppError) || !/^HTTP_(403|404|410)$/.test(err.code)) return err;
  return new AppError({
    code: 'SLACK_WEBHOOK_REFUSED',
    message: `Slack refused the webhook (${err.code.slice(5)}): it was revoked, or its channel is gone`,
    httpStatus: 400,
  });
}

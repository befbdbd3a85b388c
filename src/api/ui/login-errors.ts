import * as oauth from 'oauth4webapi';
import { AppError } from '../../shared/errors.js';

// Every way a console sign-in can fail, each with its own stable code (LOGIN_*).

export const notConfigured = () =>
  new AppError({
    code: 'LOGIN_NOT_CONFIGURED',
    message: 'sign-in needs AUTH_MODE=jwks with AUTH_ISSUER and OIDC_CLIENT_ID; paste a token instead',
    httpStatus: 404,
  });

export const sessionMissing = (why: string) =>
  new AppError({ code: 'LOGIN_SESSION_MISSING', message: `${why}; sign in again`, httpStatus: 400 });

function describe(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  if (err instanceof oauth.ResponseBodyError)
    return `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function providerUnavailable(err: unknown): AppError {
  return new AppError({
    code: 'LOGIN_PROVIDER_UNAVAILABLE',
    message: `the identity provider's metadata could not be read (${describe(err)})`,
    httpStatus: 502,
    retryable: true,
    cause: err,
  });
}

export function callbackError(err: unknown): AppError {
  if (err instanceof oauth.AuthorizationResponseError) {
    const denied = err.error === 'access_denied';
    const description = err.error_description ? `: ${err.error_description}` : '';
    return new AppError({
      code: denied ? 'LOGIN_DENIED' : 'LOGIN_PROVIDER_ERROR',
      message: `the identity provider answered '${err.error}'${description}`,
      httpStatus: denied ? 403 : 502,
      cause: err,
    });
  }
  return new AppError({
    code: 'LOGIN_CALLBACK_INVALID',
    message: `the identity provider's answer is not valid (${describe(err)})`,
    httpStatus: 400,
    cause: err,
  });
}

export function exchangeFailed(err: unknown): AppError {
  return new AppError({
    code: 'LOGIN_TOKEN_EXCHANGE_FAILED',
    message: `the identity provider did not exchange the code for a token (${describe(err)})`,
    httpStatus: 502,
    retryable: true,
    cause: err,
  });
}

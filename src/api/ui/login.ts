import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Config } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';
import { problemResponse, toProblem } from '../problem.js';
import { LOGIN_COOKIE_TTL_S, loginSeal } from './login-cookie.js';
import { notConfigured, sessionMissing } from './login-errors.js';
import { LOGIN_PAGE_CSP, loginFailedPage, signedInPage } from './login-pages.js';
import { oidcClient } from './oidc.js';

export type LoginConfig = Pick<
  Config,
  | 'AUTH_MODE'
  | 'AUTH_ISSUER'
  | 'OIDC_CLIENT_ID'
  | 'OIDC_CLIENT_SECRET'
  | 'OIDC_SCOPES'
  | 'OIDC_REDIRECT_URL'
  | 'OIDC_COOKIE_SECRET'
>;

const COOKIE = 'mz_login';
const CALLBACK = '/ui/callback';

/** The console offers "Sign in" when the API trusts an OIDC issuer and the console is its client. */
export const loginEnabled = (c: LoginConfig): boolean =>
  c.AUTH_MODE === 'jwks' && Boolean(c.AUTH_ISSUER) && Boolean(c.OIDC_CLIENT_ID);

/**
 * `/ui/login` and `/ui/callback`: the console's sign-in with the OIDC authorization code flow and
 * PKCE, run by the API so the provider needs no CORS. The access token it yields goes to the
 * console, which sends it to /v1 like a pasted one, where the usual JWKS auth checks it. Failures
 * answer problem+json, or a page with a way back for a browser.
 */
export function loginRoutes(config: LoginConfig) {
  const app = new Hono<ApiEnv>();
  const oidc =
    loginEnabled(config) && config.AUTH_ISSUER && config.OIDC_CLIENT_ID
      ? oidcClient({
          issuer: config.AUTH_ISSUER,
          clientId: config.OIDC_CLIENT_ID,
          clientSecret: config.OIDC_CLIENT_SECRET,
          scopes: config.OIDC_SCOPES,
        })
      : undefined;
  const seal = loginSeal(config.OIDC_COOKIE_SECRET);

  app.get('/ui/login', async (c) => {
    if (!oidc) return failed(c, notConfigured());
    const redirectUri = config.OIDC_REDIRECT_URL ?? new URL(CALLBACK, c.req.url).href;
    let started: Awaited<ReturnType<typeof oidc.start>>;
    try {
      started = await oidc.start(redirectUri);
    } catch (err) {
      return failed(c, err);
    }
    setCookie(c, COOKIE, await seal.close(started.pending), {
      path: CALLBACK,
      httpOnly: true,
      sameSite: 'Lax',
      secure: redirectUri.startsWith('https:'),
      maxAge: LOGIN_COOKIE_TTL_S,
    });
    c.header('cache-control', 'no-store');
    return c.redirect(started.url.href, 302);
  });

  app.get(CALLBACK, async (c) => {
    const sealed = getCookie(c, COOKIE);
    // One sign-in, one callback: whatever happens next, the cookie has served.
    deleteCookie(c, COOKIE, { path: CALLBACK });
    c.header('cache-control', 'no-store');
    c.header('referrer-policy', 'no-referrer');
    if (!oidc) return failed(c, notConfigured());
    if (!sealed) return failed(c, sessionMissing('no sign-in was started in this browser, or it took too long'));
    const pending = await seal.open(sealed);
    if (!pending) return failed(c, sessionMissing('the sign-in cookie is expired or was not made by this API'));
    if (!sameSecret(c.req.query('state') ?? '', pending.state))
      return failed(
        c,
        new AppError({
          code: 'LOGIN_STATE_MISMATCH',
          message: "the answer's state does not belong to the sign-in started in this browser",
          httpStatus: 400,
        }),
      );
    let accessToken: string;
    try {
      accessToken = await oidc.finish(new URL(c.req.url), pending);
    } catch (err) {
      return failed(c, err);
    }
    c.header('content-security-policy', LOGIN_PAGE_CSP);
    c.header('x-content-type-options', 'nosniff');
    return c.html(signedInPage(accessToken));
  });
  return app;
}

/** Compares without leaking where two values differ (digests first, so lengths leak nothing either). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function failed(c: Context<ApiEnv>, err: unknown): Response {
  if (!(err instanceof AppError)) throw err;
  c.var.logger.info({ code: err.code, err: err.cause }, `console sign-in failed: ${err.message}`);
  if (!/\btext\/html\b/.test(c.req.header('accept') ?? '')) return problemResponse(c, err);
  c.header('content-security-policy', LOGIN_PAGE_CSP);
  c.header('x-content-type-options', 'nosniff');
  return c.html(loginFailedPage(toProblem(err)), isErrorStatus(err.httpStatus) ? err.httpStatus : 500);
}

const isErrorStatus = (n: number): n is ContentfulStatusCode => Number.isInteger(n) && n >= 400 && n <= 599;

import { fetch, Headers, type Response } from 'undici';
import { AppError } from '../../shared/errors.js';
import type { ExecuteContext } from '../connector-attempt.js';
import { withConnection } from './auth.js';
import { encodeBody, readBody } from './body.js';
import { blockedAddress, blockedCause, createGuard, type Guard } from './guard.js';
import { nextHop, type Hop } from './redirect.js';
import { describeUrl, urlHoldsSecret } from './safe-url.js';
import type { Reserved } from '../reserved.js';
import type { HttpConnection } from './connection.js';
import { forgetToken } from './oauth2.js';
import type { HttpConfig } from './schema.js';

const MAX_REDIRECTS = 5;
const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

/** The step's output: `{ status, headers, body }`, the body parsed when it is JSON. */
export interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The http step itself, inside the activity boundary (which resolves and redacts secrets). With a
 * connection, its headers and credentials are applied (see withConnection).
 * @example await createHttpExecute('')(HttpConfigSchema.parse({ url: 'https://example.com' }), ctx)
 */
export function createHttpExecute(allowlist: string, reserved?: Reserved) {
  const guard = createGuard(allowlist, reserved);
  return async (config: HttpConfig, ctx: ExecuteContext<HttpConnection>): Promise<HttpOutput> => {
    const { connection } = ctx;
    if (!connection) return request(config, ctx, guard);
    const authed = await withConnection(config, connection, { guard, signal: ctx.signal, secrets: ctx.secrets });
    try {
      return await request(authed, ctx, guard);
    } catch (err) {
      // A token the API no longer accepts is dropped; the retry fetches a new one.
      if (connection.auth?.type === 'oauth2' && err instanceof AppError && err.code === 'HTTP_401') {
        forgetToken(connection.auth);
        throw new AppError({ code: err.code, message: err.message, retryable: true, details: err.details });
      }
      throw err;
    }
  };
}

async function request(
  config: HttpConfig,
  { input, signal, secrets }: ExecuteContext<HttpConnection>,
  guard: Guard,
): Promise<HttpOutput> {
  const url = new URL(config.url);
  for (const [k, v] of Object.entries(config.query)) url.searchParams.append(k, String(v));
  const headers = new Headers(config.headers);
  if (!headers.has('idempotency-key')) headers.set('idempotency-key', input.idempotencyKey);
  let hop: Hop = { url, method: config.method, headers, body: encodeBody(config.body, headers) };

  let res = await send(hop, signal, guard, secrets);
  for (let hops = 0; isRedirect(res); hops++) {
    if (hops >= MAX_REDIRECTS)
      throw new AppError({
        code: 'HTTP_TOO_MANY_REDIRECTS',
        message: `${describeUrl(hop.url, secrets)} redirected more than ${MAX_REDIRECTS} times`,
      });
    await res.body?.cancel();
    hop = nextHop(hop, res.status, res.headers.get('location') ?? '', secrets);
    res = await send(hop, signal, guard, secrets);
  }
  const where = `${hop.method} ${describeUrl(hop.url, secrets)}`;
  const output: HttpOutput = {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: await readBody(res, signal, where),
  };
  const expected = config.expectStatus ? config.expectStatus.includes(res.status) : res.ok;
  if (expected) return output;
  throw new AppError({
    code: `HTTP_${res.status}`,
    message: `${where} answered ${res.status}`,
    retryable: RETRYABLE_STATUS(res.status),
    details: { status: res.status, body: truncate(output.body) },
    retryAfterMs: retryAfter(res.headers.get('retry-after')),
  });
}

async function send(
  { url, method, headers, body }: Hop,
  signal: AbortSignal,
  guard: Guard,
  secrets: readonly string[],
): Promise<Response> {
  const hidden = urlHoldsSecret(url, secrets);
  try {
    guard.assertAllowed(url);
    return await fetch(url, { method, headers, body, signal, redirect: 'manual', dispatcher: guard.dispatcher });
  } catch (err) {
    const blocked = blockedCause(err);
    if (blocked && blocked.code === 'HOST_RESERVED' && hidden)
      throw new AppError({
        code: blocked.code,
        message: `${describeUrl(url, secrets)} is one of the engine's own services`,
      });
    if (blocked) throw hidden ? blockedAddress('[redacted]', '[redacted]') : blocked;
    const timedOut = signal.aborted;
    // A DNS or connection error names the host; when a secret went into the URL only its code is kept.
    const cause = hidden ? causeCode(err) : causeOf(err);
    throw new AppError({
      code: timedOut ? 'HTTP_TIMEOUT' : 'HTTP_NETWORK_ERROR',
      message: `${method} ${describeUrl(url, secrets)} ${timedOut ? 'timed out' : `failed: ${cause}`}`,
      retryable: true,
    });
  }
}

const isRedirect = (res: Response) => [301, 302, 303, 307, 308].includes(res.status) && res.headers.has('location');

/** `Retry-After` is either seconds or an HTTP date. */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const truncate = (body: unknown) => (typeof body === 'string' && body.length > 2000 ? `${body.slice(0, 2000)}…` : body);

const innermost = (err: unknown): unknown => (err instanceof Error && err.cause instanceof Error ? err.cause : err);
const causeOf = (err: unknown): string => {
  const cause = innermost(err);
  return cause instanceof Error ? cause.message : String(cause);
};
const causeCode = (err: unknown): string => {
  const cause = innermost(err);
  return cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : 'a network error';
};

import { fetch, Headers, type Response } from 'undici';
import { AppError } from '../../shared/errors.js';
import type { Metrics } from '../../shared/metrics.js';
import { connectorActivity, type ConnectorParts, type ExecuteContext } from '../boundary.js';
import { blockedCause, createGuard, type Guard } from './guard.js';
import { HttpConfigSchema, type HttpConfig } from './schema.js';

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

/** The step's output: `{ status, headers, body }`, the body parsed when it is JSON. */
export interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The `http` connector. Sends `Idempotency-Key: <runId>:<stepId>` (stable across attempts);
 * 408/429/5xx and network errors are retryable, other statuses outside `expectStatus` are not;
 * `Retry-After` sets the next retry delay. Private and local addresses are refused unless
 * allow-listed (SSRF guard), redirects are followed at most 5 times, responses are capped at 10 MiB.
 * @example createHttpActivity({ allowlist: 'hooks.internal' })({ config: { method: 'GET', url: 'https://example.com' }, ... })
 */
export function createHttpActivity(opts: { allowlist: string; metrics?: Metrics; secrets?: ConnectorParts<typeof HttpConfigSchema>['secrets'] }) {
  const guard = createGuard(opts.allowlist);
  return connectorActivity({ type: 'http', schema: HttpConfigSchema, execute: (config, ctx) => request(config, ctx, guard), metrics: opts.metrics, secrets: opts.secrets });
}

async function request(config: HttpConfig, { input, signal }: ExecuteContext, guard: Guard): Promise<HttpOutput> {
  let url = new URL(config.url);
  for (const [k, v] of Object.entries(config.query)) url.searchParams.append(k, String(v));
  const headers = new Headers(config.headers);
  if (!headers.has('idempotency-key')) headers.set('idempotency-key', input.idempotencyKey);
  let method: string = config.method;
  let body = encodeBody(config.body, headers);

  let res = await send(url, method, headers, body, signal, guard);
  for (let hops = 0; isRedirect(res); hops++) {
    if (hops >= MAX_REDIRECTS) throw new AppError({ code: 'HTTP_TOO_MANY_REDIRECTS', message: `${url.origin}${url.pathname} redirected more than ${MAX_REDIRECTS} times` });
    await res.body?.cancel();
    url = new URL(res.headers.get('location') ?? '', url);
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      headers.delete('content-type');
    }
    res = await send(url, method, headers, body, signal, guard);
  }
  const output: HttpOutput = { status: res.status, headers: Object.fromEntries(res.headers), body: await readBody(res) };
  const expected = config.expectStatus ? config.expectStatus.includes(res.status) : res.ok;
  if (expected) return output;
  throw new AppError({
    code: `HTTP_${res.status}`,
    message: `${config.method} ${url.origin}${url.pathname} answered ${res.status}`,
    retryable: RETRYABLE_STATUS(res.status),
    details: { status: res.status, body: truncate(output.body) },
    retryAfterMs: retryAfter(res.headers.get('retry-after')),
  });
}

async function send(url: URL, method: string, headers: Headers, body: string | undefined, signal: AbortSignal, guard: Guard): Promise<Response> {
  guard.assertAllowed(url);
  try {
    return await fetch(url, { method, headers, body, signal, redirect: 'manual', dispatcher: guard.dispatcher });
  } catch (err) {
    const blocked = blockedCause(err);
    if (blocked) throw blocked;
    const timedOut = signal.aborted;
    throw new AppError({
      code: timedOut ? 'HTTP_TIMEOUT' : 'HTTP_NETWORK_ERROR',
      message: `${method} ${url.origin}${url.pathname} ${timedOut ? 'timed out' : `failed: ${causeOf(err)}`}`,
      retryable: true,
    });
  }
}

const isRedirect = (res: Response) => [301, 302, 303, 307, 308].includes(res.status) && res.headers.has('location');

function encodeBody(body: unknown, headers: Headers): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
    return body;
  }
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return JSON.stringify(body);
}

async function readBody(res: Response): Promise<unknown> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_RESPONSE_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_RESPONSE_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!/\bjson\b/i.test(res.headers.get('content-type') ?? '') || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const tooLarge = () =>
  new AppError({ code: 'HTTP_RESPONSE_TOO_LARGE', message: `the response is larger than ${MAX_RESPONSE_BYTES} bytes` });

/** `Retry-After` is either seconds or an HTTP date. */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const truncate = (body: unknown) => (typeof body === 'string' && body.length > 2000 ? `${body.slice(0, 2000)}…` : body);

const causeOf = (err: unknown): string => {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
};

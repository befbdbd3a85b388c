import { AppError } from '../../shared/errors.js';
import type { Metrics } from '../../shared/metrics.js';
import { connectorActivity, type ExecuteContext } from '../boundary.js';
import { HttpConfigSchema, type HttpConfig } from './schema.js';

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
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
 * `Retry-After` sets the next retry delay.
 * @example createHttpActivity()({ config: { method: 'GET', url: 'https://example.com' }, ... })
 */
export function createHttpActivity(metrics?: Metrics) {
  return connectorActivity('http', HttpConfigSchema, request, metrics);
}

async function request(config: HttpConfig, { input, signal }: ExecuteContext): Promise<HttpOutput> {
  const url = new URL(config.url);
  for (const [k, v] of Object.entries(config.query)) url.searchParams.append(k, String(v));
  const headers = new Headers(config.headers);
  if (!headers.has('idempotency-key')) headers.set('idempotency-key', input.idempotencyKey);
  const body = encodeBody(config.body, headers);

  let res: Response;
  try {
    res = await fetch(url, { method: config.method, headers, body, signal, redirect: 'follow' });
  } catch (err) {
    const timedOut = signal.aborted;
    throw new AppError({
      code: timedOut ? 'HTTP_TIMEOUT' : 'HTTP_NETWORK_ERROR',
      message: `${config.method} ${url.origin}${url.pathname} ${timedOut ? 'timed out' : `failed: ${causeOf(err)}`}`,
      retryable: true,
    });
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
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > MAX_RESPONSE_BYTES) throw tooLarge();
  const text = new TextDecoder().decode(bytes);
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

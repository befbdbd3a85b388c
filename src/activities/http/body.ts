import type { Headers, Response } from 'undici';
import { AppError } from '../../shared/errors.js';

/** The most an http step reads of a response; a larger one fails the step. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** The request body as text, setting a content-type that fits unless the config set one. */
export function encodeBody(body: unknown, headers: Headers): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
    return body;
  }
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return JSON.stringify(body);
}

/**
 * The response body, parsed when it is JSON. Reads chunk by chunk and stops (cancelling the
 * stream) as soon as the cap is passed, so at most the cap plus one chunk is ever held; a body
 * that trickles in is cut off by the step's signal.
 */
export async function readBody(res: Response, signal: AbortSignal, where: string): Promise<unknown> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_RESPONSE_BYTES) {
    await res.body?.cancel();
    throw tooLarge(where);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_RESPONSE_BYTES) throw tooLarge(where);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (signal.aborted)
      throw new AppError({
        code: 'HTTP_TIMEOUT',
        message: `${where} timed out while sending its response`,
        retryable: true,
      });
    throw new AppError({ code: 'HTTP_NETWORK_ERROR', message: `${where} broke off its response`, retryable: true });
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!/\bjson\b/i.test(res.headers.get('content-type') ?? '') || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const tooLarge = (where: string) =>
  new AppError({
    code: 'HTTP_RESPONSE_TOO_LARGE',
    message: `${where} answered with more than ${MAX_RESPONSE_BYTES} bytes`,
    retryable: false,
  });

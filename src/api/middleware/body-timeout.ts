import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';

/**
 * The request body as text, if it arrives within `ms`; else 408 BODY_TIMEOUT, and the connection
 * closes after the answer, so a body that never comes holds no socket and no handler.
 * @example const raw = await readBodyWithin(c, deps.config.API_BODY_TIMEOUT_MS)
 */
export async function readBodyWithin(c: Context, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const reading = c.req.text();
  // Once timed out, the read ends with the socket; its error has no one to go to.
  reading.catch(() => undefined);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      closeAfterAnswer(c);
      reject(
        new AppError({
          code: 'BODY_TIMEOUT',
          message: `the request body did not arrive within ${ms} ms`,
          httpStatus: 408,
        }),
      );
    }, ms);
  });
  try {
    return await Promise.race([reading, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The server closes the connection once this answer is sent, instead of reading (or waiting for) an unread body. */
export const closeAfterAnswer = (c: Context) => c.header('connection', 'close');

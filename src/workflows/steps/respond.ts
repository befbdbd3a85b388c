import type { StepOf, StepContext, StepOutcome } from '../context.js';
import { RESPONSE_HEADER_NAME } from '../../definitions/response.js';
import { isObject } from '../../shared/json-values.js';
import { AppError } from '../../shared/errors.js';
import type { RunResponse } from '../run-model.js';

/** The largest body a `respond` step answers, as JSON. */
export const MAX_RESPONSE_BODY_BYTES = 64 * 1024;
/** Headers the server sets itself, or that would reach past this answer (cookies of the API's own site). */
const OWN_HEADERS = new Set([
  'connection',
  'content-length',
  'keep-alive',
  'proxy-connection',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * `respond`: answers the caller waiting on this run (a webhook with `respond: "onCompletion"`, a
 * trigger with `?wait=`) with `{status, headers, body}` now, while the run goes on. The first
 * respond step of a run answers; a later one changes nothing (its output says `answered: false`).
 */
export async function respond(step: StepOf<'respond'>, { scope }: StepContext): Promise<StepOutcome> {
  const config = await scope.run.render(step.config, scope.context());
  const response = toResponse(config);
  const answered = scope.run.respond(response);
  return { output: { ...response, answered } };
}

function toResponse(config: unknown): RunResponse {
  const c = isObject(config) ? config : {};
  const status = c.status === undefined ? 200 : Number(c.status);
  if (!Number.isInteger(status) || status < 200 || status > 599)
    throw invalid(`status ${JSON.stringify(c.status)} is not an HTTP status of 200-599`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(isObject(c.headers) ? c.headers : {})) {
    if (!RESPONSE_HEADER_NAME.test(name) || OWN_HEADERS.has(name.toLowerCase()))
      throw invalid(`the header '${name.slice(0, 100)}' cannot be set`);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text === undefined || text.length > 4096 || /[\u0000-\u001f\u007f]/.test(text))
      throw invalid(`the value of header '${name}' is not a line of at most 4096 characters`);
    headers[name] = text;
  }
  const body = c.body ?? null;
  const bytes = JSON.stringify(body)?.length ?? 0;
  if (bytes > MAX_RESPONSE_BODY_BYTES)
    throw new AppError({
      code: 'RESPONSE_TOO_LARGE',
      message: `the response body is ${bytes} bytes as JSON, more than ${MAX_RESPONSE_BODY_BYTES}`,
    });
  return { status, headers, body };
}

const invalid = (message: string) => new AppError({ code: 'INVALID_CONFIG', message });

import { AppError } from '../../shared/errors.js';
import type { ExecuteContext } from '../connector-attempt.js';
import type { ConnectorDeps } from '../define-connector.js';
import type { CodeConfig } from './definition.js';
import type { CodeAnswer } from './job.js';
import { sharedSandbox } from './sandbox.js';

/** CODE_MAX_MS and CODE_MAX_MEMORY_MB when the process gives none. */
export const DEFAULT_CODE_LIMITS = { maxMs: 1000, maxMemoryMb: 64 };

/**
 * Runs a code step's source once in a sandbox thread, with the run context the workflow sent
 * beside the config; the answer's JSON is the output.
 * @example await createCodeExecute({ allowlist: '' })({ language: 'javascript', source: 'return input * 2', input: 21 }, ctx) // 42
 */
export function createCodeExecute(deps: Pick<ConnectorDeps, 'code' | 'maxOutputBytes'>) {
  const { maxMs, maxMemoryMb } = deps.code ?? DEFAULT_CODE_LIMITS;
  const sandbox = sharedSandbox(maxMemoryMb);
  return async (config: CodeConfig, ctx: ExecuteContext): Promise<unknown> => {
    const answer = await sandbox.run(
      {
        source: config.source,
        context: ctx.input.context ?? null,
        input: config.input ?? null,
        maxMs,
        maxOutputBytes: deps.maxOutputBytes ?? 8 * 1024 * 1024,
      },
      ctx.signal,
    );
    if (answer.ok) return JSON.parse(answer.json);
    throw codeFailure(answer.error);
  };
}

/**
 * A limit is not retried (the same code meets the same limit); the code's own error is, as the
 * step's retry policy says; a sandbox fault is an operational one.
 */
function codeFailure(error: Extract<CodeAnswer, { ok: false }>['error']): AppError {
  if (error.code === 'CODE_LIMIT')
    return new AppError({ code: error.code, message: error.message, httpStatus: 400, details: { limit: error.limit } });
  if (error.code === 'CODE_ERROR')
    return new AppError({
      code: error.code,
      message: error.message,
      httpStatus: 400,
      retryable: true,
      ...(error.line === undefined ? {} : { details: { line: error.line } }),
    });
  return new AppError({ code: error.code, message: error.message, retryable: true, httpStatus: 503 });
}

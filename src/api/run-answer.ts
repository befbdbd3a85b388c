import { ApplicationFailure, CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Context } from 'hono';
import { DURATION_PATTERN, toMillis } from '../definitions/duration.js';
import { AppError } from '../shared/errors.js';
import { responseUpdate, type RunResponse, type RunStatus, type StepError } from '../workflows/run-model.js';

/** The longest a caller may wait for a run's answer (`?wait=`, a webhook's `respond`). */
export const MAX_WAIT_MS = 60_000;
/** How long a webhook with `respond: "onCompletion"` waits. */
export const WEBHOOK_WAIT_MS = 30_000;

export type RunAnswer =
  | { kind: 'ended'; status: RunStatus; output: unknown; error: StepError | null }
  | { kind: 'respond'; response: RunResponse }
  | { kind: 'pending' };

/** `?wait=30s`: a duration of at most 60 s (INVALID_WAIT otherwise); undefined when absent. */
export function parseWait(wait: string | undefined): number | undefined {
  if (wait === undefined) return undefined;
  const ms = wait.length <= 20 && DURATION_PATTERN.test(wait) ? toMillis(wait) : Number.NaN;
  if (!(ms > 0 && ms <= MAX_WAIT_MS))
    throw new AppError({
      code: 'INVALID_WAIT',
      message: `wait is a duration of at most ${MAX_WAIT_MS / 1000}s, e.g. 30s; got '${wait.slice(0, 40)}'`,
      httpStatus: 400,
    });
  return ms;
}

/**
 * Waits at most `waitMs` for what a run answers its caller: its end (Temporal's long poll for
 * the result), or what its first `respond` step says (an update the run completes when that step
 * runs). Nothing here holds a worker slot, and a caller that goes away (`signal`) only stops the
 * waiting: the run goes on as it would have.
 */
export async function awaitRunAnswer(
  temporal: Client,
  runId: string,
  opts: { waitMs: number; responds: boolean; signal?: AbortSignal },
): Promise<RunAnswer> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), opts.waitMs);
  const onGone = () => stop.abort();
  opts.signal?.addEventListener('abort', onGone);
  const pending = new Promise<RunAnswer>((resolve) => {
    if (stop.signal.aborted) resolve({ kind: 'pending' });
    stop.signal.addEventListener('abort', () => resolve({ kind: 'pending' }));
  });
  const handle = temporal.workflow.getHandle(runId);
  try {
    const ended = temporal
      .withAbortSignal(stop.signal, () => handle.result())
      .then(
        (result: { output?: unknown }): RunAnswer => ({
          kind: 'ended',
          status: 'completed',
          output: result.output ?? null,
          error: null,
        }),
        (err: unknown): Promise<RunAnswer> | RunAnswer => (stop.signal.aborted ? pending : failedAnswer(err)),
      );
    // A run that ends without a respond step refuses the update: the end answers then.
    const responded = opts.responds
      ? temporal
          .withAbortSignal(stop.signal, () => handle.executeUpdate(responseUpdate))
          .then(
            (response): RunAnswer => ({ kind: 'respond', response }),
            () => ended,
          )
      : ended;
    return await Promise.race([ended, responded, pending]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onGone);
    stop.abort();
  }
}

/**
 * How a run that did not complete answers. Anything but the run's failure (Temporal unreachable
 * while waiting) answers as a wait that ran out: the run has started, and the caller polls it
 * instead of starting another.
 */
function failedAnswer(err: unknown): RunAnswer {
  if (!(err instanceof WorkflowFailedError)) return { kind: 'pending' };
  const cause = err.cause;
  if (cause instanceof CancelledFailure) return { kind: 'ended', status: 'cancelled', output: null, error: null };
  if (cause instanceof TerminatedFailure)
    return { kind: 'ended', status: 'terminated', output: null, error: { code: 'TERMINATED', message: cause.message } };
  const code = cause instanceof ApplicationFailure ? (cause.type ?? 'WORKFLOW_FAILED') : 'WORKFLOW_FAILED';
  const error = { code, message: cause?.message ?? err.message };
  return { kind: 'ended', status: code === 'RUN_TIMED_OUT' ? 'timed_out' : 'failed', output: null, error };
}

/** The HTTP answer: the run's end (200), a respond step's answer as it said, or 202 with where to poll. */
export function answerWith(c: Context, runId: string, answer: RunAnswer): Response {
  c.header('mini-zaps-run-id', runId);
  if (answer.kind === 'pending') {
    c.header('location', `/v1/runs/${encodeURIComponent(runId)}`);
    return c.json({ runId }, 202);
  }
  if (answer.kind === 'ended')
    return c.json(
      { runId, status: answer.status, output: answer.output, ...(answer.error ? { error: answer.error } : {}) },
      200,
    );
  const { status, headers, body } = answer.response;
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  // A run's answer shares the console's origin: whatever it says, a browser runs no script of it.
  c.header('content-security-policy', "sandbox; default-src 'none'");
  c.header('x-content-type-options', 'nosniff');
  const type = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  if (typeof body === 'string') {
    if (!type) c.header('content-type', 'text/plain; charset=utf-8');
    return c.body(body, status as 200);
  }
  if (!type) c.header('content-type', 'application/json');
  return c.body(JSON.stringify(body), status as 200);
}

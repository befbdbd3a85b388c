import { isDeepStrictEqual } from 'node:util';
import { describeChange, fieldDiff } from '../shared/json-diff.js';
import type { RunSnapshot, StepState } from '../workflows/run-model.js';
import type { Expectations } from './spec.js';

/** Every step of a run, nested branches and items included, by id (the last one of an id wins). */
export function flattenSteps(steps: readonly StepState[], into = new Map<string, StepState>()): Map<string, StepState> {
  for (const s of steps) {
    into.set(s.id, s);
    for (const child of s.children ?? []) flattenSteps(child.steps, into);
  }
  return into;
}

/** A mismatch between what was expected and what happened, with the difference field by field. */
function mismatch(what: string, expected: unknown, actual: unknown): string {
  const lines = fieldDiff(actual, expected).map((c) => `      ${describeChange(c)}`);
  return [
    `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual) ?? 'nothing'}`,
    ...(lines.length > 1 || (lines.length === 1 && typeof expected === 'object')
      ? ['    (got → expected):', ...lines]
      : []),
  ].join('\n');
}

/** What the run did that the expectations did not say; empty when the run met them all. */
export function check(expect: Expectations, run: RunSnapshot & { output: unknown }): string[] {
  const failures: string[] = [];
  const steps = flattenSteps(run.steps);
  if (expect.status !== undefined && expect.status !== run.status)
    failures.push(
      mismatch('status', expect.status, run.status) + (run.error ? ` (${run.error.code}: ${run.error.message})` : ''),
    );
  if ('output' in expect && !isDeepStrictEqual(expect.output, run.output))
    failures.push(mismatch('output', expect.output, run.output));
  if (expect.error && expect.error.code !== run.error?.code)
    failures.push(mismatch('error.code', expect.error.code, run.error?.code));
  if (expect.error?.message !== undefined && !run.error?.message.includes(expect.error.message))
    failures.push(mismatch('error.message (contains)', expect.error.message, run.error?.message));
  for (const [id, want] of Object.entries(expect.steps ?? {})) {
    const got = steps.get(id);
    if (!got) {
      failures.push(`step ${id}: expected it to run, it did not (ran: ${[...steps.keys()].join(', ') || 'none'})`);
      continue;
    }
    if (want.status !== undefined && want.status !== got.status)
      failures.push(mismatch(`step ${id} status`, want.status, got.status));
    if (want.attempts !== undefined && want.attempts !== got.attempts)
      failures.push(mismatch(`step ${id} attempts`, want.attempts, got.attempts));
    if ('output' in want && !isDeepStrictEqual(want.output, got.output))
      failures.push(mismatch(`step ${id} output`, want.output, got.output));
    if (want.error && want.error.code !== got.error?.code)
      failures.push(mismatch(`step ${id} error.code`, want.error.code, got.error?.code));
  }
  for (const id of expect.ran ?? []) if (!steps.has(id)) failures.push(`step ${id}: expected it to run, it did not`);
  for (const id of expect.notRan ?? [])
    if (steps.has(id)) failures.push(`step ${id}: expected it not to run, it ran (${steps.get(id)?.status})`);
  return failures;
}

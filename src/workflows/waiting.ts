import type { Scope } from './scope.js';

/** Marks the step and the run as waiting while `fn` runs. */
export async function waiting<T>(scope: Scope, stepId: string, fn: () => Promise<T>): Promise<T> {
  scope.setStatus(stepId, 'waiting');
  await scope.run.changeWaiting(1);
  try {
    return await fn();
  } finally {
    scope.setStatus(stepId, 'running');
    await scope.run.changeWaiting(-1);
  }
}

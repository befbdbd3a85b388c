import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ext = extname(fileURLToPath(import.meta.url));
const path = (relative: string) => fileURLToPath(new URL(`${relative}${ext}`, import.meta.url));

/** The workflows the worker runs: the interpreter and its helpers. */
export const WORKFLOWS_PATH = path('../workflows/index');

/**
 * Modules the SDK evaluates once per worker thread and shares among all runs, instead of once per
 * run (the sandbox's default, a cost in every run): the sandbox's settings (stack-traces.ts), the
 * expression engine, pure code whose parse cache then outlives a run, and the interpreter itself.
 * A shared module must keep no per-run state (everything of a run lives in its RunState); the SDK
 * freezes its exports. Every bundle of the workflows (worker, `npm run build`, replay, benchmarks)
 * uses these.
 */
export const SHARED_WORKFLOW_MODULES = [
  path('../workflows/stack-traces'),
  'jsonata',
  path('../definitions/expressions/evaluate'),
  path('../definitions/expressions/templates'),
  WORKFLOWS_PATH,
];

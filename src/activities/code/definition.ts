import { z } from 'zod';
import { defineConnector, type ConnectorDeps } from '../define-connector.js';
import { createCodeExecute } from './activity.js';
import { syntaxProblem } from './syntax.js';

/** The longest source a code step may hold. */
const MAX_SOURCE_CHARS = 262_144;

/**
 * Config of the `code` step: the body of `function (ctx, input)`, where `ctx` is the run context
 * (`trigger`, `steps`, `run`) and `input` the rendered `input`; what it returns is the output.
 * @example { "language": "javascript", "input": "{{ trigger.items }}", "source": "return input.map((i) => i.price * i.qty)" }
 */
export const CodeConfigSchema = z.strictObject({
  language: z.literal('javascript'),
  /** Taken as written: never a `{{ }}` template. */
  source: z
    .string()
    .min(1)
    .max(MAX_SOURCE_CHARS)
    .superRefine((source, ctx) => {
      const problem = syntaxProblem(source);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** Rendered like any config (templates allowed), then handed to the code as `input`. */
  input: z.unknown().optional(),
});
export type CodeConfig = z.output<typeof CodeConfigSchema>;

/** `code`: runs JavaScript in a WebAssembly sandbox (QuickJS), under time, memory, stack and result limits. */
export const codeConnector = defineConnector({
  type: 'code',
  description:
    'Runs JavaScript in a WebAssembly sandbox (QuickJS): `source` is the body of `function (ctx, input)` with the run context (`trigger`, `steps`, `run`) and the rendered `input`; its return value (JSON) is the output. ' +
    'No network, file system, modules, timers or host globals. A thrown error fails the step with CODE_ERROR and its line; ' +
    'past CODE_MAX_MS, CODE_MAX_MEMORY_MB, the stack or the output bound it fails CODE_LIMIT, naming the limit.',
  configSchema: CodeConfigSchema,
  defaults: { timeout: '30s', retry: { maxAttempts: 1 }, verbatim: ['source'], context: true },
  example: {
    config: {
      language: 'javascript',
      input: '{{ trigger.items }}',
      source: 'return { total: input.reduce((sum, i) => sum + i.price * i.qty, 0) };',
    },
  },
  create: (deps: ConnectorDeps) => createCodeExecute(deps),
});

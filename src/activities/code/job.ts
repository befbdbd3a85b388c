/** One call of a code step, as the sandbox thread receives it. */
export interface CodeJob {
  source: string;
  /** The run context: `trigger`, `steps`, `run`. */
  context: unknown;
  /** The step's rendered `config.input`. */
  input: unknown;
  /** CODE_MAX_MS. */
  maxMs: number;
  /** The largest result, as JSON, the step may return (STEP_OUTPUT_MAX_BYTES). */
  maxOutputBytes: number;
}

/** Which bound a call broke. */
export type CodeLimit = 'time' | 'memory' | 'stack' | 'result';

/** How a call ended: its result as JSON text, or why it has none. */
export type CodeAnswer =
  | { ok: true; json: string }
  | {
      ok: false;
      error:
        | { code: 'CODE_LIMIT'; limit: CodeLimit; message: string }
        | { code: 'CODE_ERROR'; message: string; line?: number }
        | { code: 'CODE_SANDBOX_FAULT'; message: string };
    };

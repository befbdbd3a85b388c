/**
 * The budgets an expression runs under. They count work, not time, so a replay takes exactly the
 * path the live run took. Past one, the step fails non-retryably with EXPRESSION_LIMIT.
 */
export interface ExpressionLimits {
  /** Evaluation steps (JSONata nodes entered) in one evaluation: bounds loops and tail recursion. */
  steps: number;
  /** Nesting of evaluation: bounds non-tail recursion long before any stack runs out. */
  depth: number;
  /** Items in any array or sequence built, ranges (`[1..n]`) included. */
  items: number;
  /** Characters in any string built. */
  stringLength: number;
  /** Size of the result as JSON, in bytes (UTF-16 code units). */
  resultBytes: number;
}

/** What runs get unless the deployment says otherwise (EXPRESSION_MAX_* settings). */
export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = {
  steps: 100_000,
  depth: 1000,
  items: 100_000,
  stringLength: 4_000_000,
  resultBytes: 8 * 1024 * 1024,
};

/**
 * Runs started before budgets existed: only the depth, which keeps a worker's stack intact (an
 * evaluation deeper than this never completed a workflow task, so no history can depend on it).
 */
export const LEGACY_EXPRESSION_LIMITS: ExpressionLimits = {
  steps: Number.POSITIVE_INFINITY,
  depth: DEFAULT_EXPRESSION_LIMITS.depth,
  items: Number.POSITIVE_INFINITY,
  stringLength: Number.POSITIVE_INFINITY,
  resultBytes: Number.POSITIVE_INFINITY,
};

/** Bounds on a whole run, beside the expression budgets. */
export interface RunLimits extends ExpressionLimits {
  /** The sum of the sizes (JSON bytes) of the step outputs a run holds; past it the run fails RUN_STATE_TOO_LARGE. */
  runStateBytes: number;
  /**
   * The tenant's start quota (TENANT_START_RATE) when the run started: a top-level run waits for its
   * turn among the tenant's starts before its first step. Absent: no quota (and in runs older than it).
   */
  startsPerSecond?: number;
}

export const DEFAULT_RUN_LIMITS: RunLimits = { ...DEFAULT_EXPRESSION_LIMITS, runStateBytes: 64 * 1024 * 1024 };

/** Bounds checked when a definition is saved. */
export const DEFINITION_LIMITS = {
  /** Characters in one expression (a bare one, or one `{{ }}` of a template). */
  expressionLength: 16_384,
  /** The whole definition as JSON. */
  definitionBytes: 1_048_576,
};

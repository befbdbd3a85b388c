import type { Retry } from '../definitions/schema.js';

/** A connector step's timeout, retries and activity kind when neither the step nor its definition sets them. */
export interface ConnectorDefaults {
  timeout: string;
  retry: Retry;
  /** Run as a local activity; unset, steps with timeouts up to 30 s do. */
  local?: boolean;
  /** Config fields taken as written, never rendered as `{{ }}` templates (a code step's source). */
  verbatim?: string[];
  /** The activity receives the run context (`trigger`, `steps`, `run`) beside its config. */
  context?: boolean;
}

/** What an activity of a connector step receives: the config with expressions already evaluated. */
export interface ConnectorInput {
  config: unknown;
  runId: string;
  workflowId: string;
  tenantId: string;
  stepId: string;
  /** Stable across attempts and re-drives: `<runId>:<stepId>`, suffixed in loops and iterations. */
  idempotencyKey: string;
  /** The nonce of this render's `$secret()` references; only those are resolved (absent before revision 3). */
  secretNonce?: string;
  /** The name of the tenant's stored connection the step uses, if any. */
  connection?: string;
  /**
   * The rate limit the step was throttled on: checked once more right before the request goes out,
   * and paused for every run by an upstream's Retry-After.
   */
  rate?: StepRate;
  /** The slot the step holds on its concurrency key: leased again as each attempt starts. */
  slot?: StepSlot;
  /** The run context, for the step types that read it (`context` in their defaults). */
  context?: unknown;
}

/** A rate-limit key and how many requests it lets out per window. */
export interface StepRate {
  key: string;
  count: number;
  windowMs: number;
}

/**
 * A step's place among at most `limit` calls in flight on `key`. `holder` is the step's
 * idempotency key; `leaseMs` outlasts one attempt, so a slot whose holder died ends with its lease.
 */
export interface StepSlot {
  key: string;
  limit: number;
  holder: string;
  leaseMs: number;
}

/** What a connector activity returns: the step's raw output and the attempt that produced it. */
export interface ConnectorResult {
  output: unknown;
  attempt: number;
}

/** The config to render, and the fields its step type takes as written (a code step's source). */
export function splitVerbatim(
  config: Record<string, unknown>,
  fields: string[] | undefined,
): { template: Record<string, unknown>; verbatim?: Record<string, unknown> } {
  if (!fields?.length) return { template: config };
  const template = Object.fromEntries(Object.entries(config).filter(([key]) => !fields.includes(key)));
  const verbatim = Object.fromEntries(Object.entries(config).filter(([key]) => fields.includes(key)));
  return { template, verbatim };
}

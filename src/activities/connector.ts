import type { z } from 'zod';
import type { Retry } from '../definitions/schema.js';

/** A connector step's timeout and retries when neither the step nor its definition sets them. */
export interface ConnectorDefaults {
  timeout: string;
  retry: Retry;
}

/** What the engine knows of a connector without doing I/O: its config schema and defaults. */
export interface ConnectorDef {
  configSchema: z.ZodType;
  defaults: ConnectorDefaults;
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
}

/** What a connector activity returns: the step's raw output and the attempt that produced it. */
export interface ConnectorResult {
  output: unknown;
  attempt: number;
}

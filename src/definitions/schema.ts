import { z } from 'zod';
import { CONNECTOR_TYPES, isConnectorType, type ConnectorType } from '../activities/registry.js';
import { DURATION_PATTERN } from './duration.js';

/**
 * The workflow language (DSL v1) as zod schemas. Connector `config` is checked here only as an
 * object; each connector's own schema checks it in `validate.ts`, where templates are understood.
 */
export const StepIdSchema = z.string().regex(/^[a-z0-9_-]{1,64}$/, 'a step id is 1-64 characters of a-z, 0-9, _ and -');
export const DurationSchema = z.string().regex(DURATION_PATTERN, 'a duration is a number and a unit, e.g. 500ms, 90s, 10m, 2h, 1d');
/** A bare JSONata expression, e.g. `steps.crm.output.body.plan = 'pro'`. */
export const ExpressionSchema = z.string().min(1, 'an expression cannot be empty');

export const RetrySchema = z.strictObject({
  maxAttempts: z.int().min(1).max(1000).optional(),
  initialInterval: DurationSchema.optional(),
  backoffCoefficient: z.number().min(1).max(100).optional(),
  maximumInterval: DurationSchema.optional(),
  /** Error codes that end the step at once, e.g. ["HTTP_409"]. */
  nonRetryable: z.array(z.string().min(1)).optional(),
});
export type Retry = z.infer<typeof RetrySchema>;

/** Fields every step may carry. */
const common = {
  id: StepIdSchema,
  description: z.string().max(1000).optional(),
  /** Where to go after this step; without it the run continues with the following step. */
  next: StepIdSchema.optional(),
  /** Guard: the step is skipped when this expression is false. */
  when: ExpressionSchema.optional(),
  /** Reshapes what is stored as the step's output; `output` in scope is the raw output. */
  output: ExpressionSchema.optional(),
  retry: RetrySchema.optional(),
  timeout: DurationSchema.optional(),
  /** On failure after retries: `continue` with the next step, or the id of a step to go to. */
  onError: z.union([z.literal('continue'), StepIdSchema]).optional(),
};

const ConfigObjectSchema = z.record(z.string(), z.unknown());

export const DelayConfigSchema = z.union([
  z.strictObject({ duration: z.string().min(1) }),
  z.strictObject({ until: z.string().min(1) }),
]);
export const TransformConfigSchema = z.strictObject({ expression: ExpressionSchema });
export const SucceedConfigSchema = z.strictObject({ output: z.unknown().optional() });
export const FailConfigSchema = z.strictObject({
  error: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an error code is SCREAMING_SNAKE_CASE').optional(),
  message: z.string().optional(),
});

const DelayStep = z.strictObject({ ...common, type: z.literal('delay'), config: DelayConfigSchema });
const TransformStep = z.strictObject({ ...common, type: z.literal('transform'), config: TransformConfigSchema });
const SucceedStep = z.strictObject({ ...common, type: z.literal('succeed'), config: SucceedConfigSchema.optional() });
const FailStep = z.strictObject({ ...common, type: z.literal('fail'), config: FailConfigSchema.optional() });
const ConnectorStep = z.strictObject({ ...common, type: z.enum(CONNECTOR_TYPES), config: ConfigObjectSchema });

export const StepSchema = z.discriminatedUnion('type', [DelayStep, TransformStep, SucceedStep, FailStep, ConnectorStep]);
export type Step = z.infer<typeof StepSchema>;
export type StepType = Step['type'];
export const STEP_TYPES: readonly string[] = ['delay', 'transform', 'succeed', 'fail', ...CONNECTOR_TYPES];

export type ConnectorStep = Extract<Step, { type: ConnectorType }>;
export const isConnectorStep = (step: Step): step is ConnectorStep => isConnectorType(step.type);

export const DefaultsSchema = z.strictObject({ retry: RetrySchema.optional(), timeout: DurationSchema.optional() });

const definitionFields = {
  name: z.string().min(1).max(200),
  description: z.string().max(5000).optional(),
  /** JSON Schema of the trigger payload (documentation for callers). */
  input: z.record(z.string(), z.unknown()).optional(),
  defaults: DefaultsSchema.optional(),
  /** Upper bound on step executions per run, so loops through `next` always end. */
  maxSteps: z.int().min(1).max(100_000).optional(),
};

/** The whole definition; used for types and the published JSON Schema. */
export const DefinitionSchema = z.strictObject({ ...definitionFields, steps: z.array(StepSchema).min(1) });
export type Definition = z.infer<typeof DefinitionSchema>;

/** The definition with steps left unchecked, so `validate.ts` can check each step on its own. */
export const DefinitionShellSchema = z.strictObject({ ...definitionFields, steps: z.array(z.unknown()).min(1, 'a workflow needs at least one step') });

/** The DSL as JSON Schema (draft 2020-12), served at `GET /v1/schema/workflow`. */
export function definitionJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(DefinitionSchema, { target: 'draft-2020-12', unrepresentable: 'any' });
}

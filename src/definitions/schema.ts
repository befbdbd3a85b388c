import { z } from 'zod';
import { EVENT_NAME_PATTERN, EVENT_NAME_RULE } from './event-names.js';
import { ApprovalFieldsSchema } from './approval-fields.js';
import { DURATION_PATTERN, toMillis } from './duration.js';
import { RESPONSE_HEADER_NAME } from './response.js';

/**
 * The workflow language (DSL v1) as zod schemas. Connector `config` is checked here only as an
 * object; each connector's own schema checks it in `validate.ts`, where templates are understood.
 */
export const StepIdSchema = z.string().regex(/^[a-z0-9_-]{1,64}$/, 'a step id is 1-64 characters of a-z, 0-9, _ and -');
export const DurationSchema = z
  .string()
  .regex(DURATION_PATTERN, 'a duration is a number and a unit, e.g. 500ms, 90s, 10m, 2h, 1d');
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

/**
 * How fast steps sharing `key` may run: `perSecond` or `perMinute`, and at most `concurrency` calls
 * in flight at once, across every run and worker. A step over the limit waits on a durable timer
 * (no retry attempt spent); an upstream's Retry-After pauses the key for every run. Without `key`:
 * the connection's name, else the step's own.
 */
export const RateLimitSchema = z
  .strictObject({
    key: z.string().min(1).max(200).optional(),
    perSecond: z.number().positive().max(10_000).optional(),
    perMinute: z.number().positive().max(600_000).optional(),
    concurrency: z.int().min(1).max(1000).optional(),
  })
  .refine((r) => r.perSecond === undefined || r.perMinute === undefined, {
    message: 'a rate limit sets at most one of perSecond and perMinute',
  })
  .refine((r) => r.perSecond !== undefined || r.perMinute !== undefined || r.concurrency !== undefined, {
    message: 'a rate limit sets perSecond, perMinute or concurrency',
  });
export type RateLimit = z.infer<typeof RateLimitSchema>;

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
  error: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/, 'an error code is SCREAMING_SNAKE_CASE')
    .optional(),
  message: z.string().optional(),
});

const EventNameSchema = z.string().regex(EVENT_NAME_PATTERN, EVENT_NAME_RULE);
/** A `{{ }}` template (or a plain key) giving an event key: 1-200 characters of A-Z a-z 0-9 _ . : @ / + = # ~ - once rendered. */
const EventKeyTemplateSchema = z.string().min(1).max(1000);

export const WaitForEventConfigSchema = z
  .strictObject({
    /** The event's name, as in `POST /v1/runs/{id}/events/{name}` or `POST /v1/events`. */
    name: EventNameSchema.optional(),
    /** Waits for the first of these events instead; the output is `{ name, payload }`. */
    anyOf: z.array(EventNameSchema).min(1).max(10).optional(),
    /** Receives the event posted to `POST /v1/events` under this key (a template, e.g. `{{ trigger.orderId }}`). */
    key: EventKeyTemplateSchema.optional(),
    timeout: DurationSchema.optional(),
  })
  .refine((c) => (c.name === undefined) !== (c.anyOf === undefined), {
    message: 'wait_for_event needs exactly one of name and anyOf',
  });
export const SubworkflowConfigSchema = z.strictObject({
  workflowId: z.string().min(1).max(200),
  /** Pinned version; the latest when omitted. */
  version: z.int().min(1).optional(),
  /** The child's trigger payload; may hold {{ }} templates. */
  input: z.unknown().optional(),
});

export const ApprovalConfigSchema = z.strictObject({
  /** What the approver reads on the link's page; may hold {{ }} templates. */
  message: z.string().min(1).max(10_000),
  /** A small form the approver fills in: a JSON Schema object of string, number, integer and boolean fields. */
  fields: ApprovalFieldsSchema.optional(),
});

export const RespondConfigSchema = z.strictObject({
  /** The HTTP status the waiting caller gets (200-599); may be a {{ }} template. */
  status: z.union([z.int().min(200).max(599), z.string().min(1).max(1000)]).optional(),
  /** At most 20 headers; values are strings or {{ }} templates. */
  headers: z
    .record(z.string().regex(RESPONSE_HEADER_NAME, 'a header name is an RFC 9110 token'), z.string().max(4096))
    .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers')
    .optional(),
  /** The body: JSON (sent as application/json) or a string; may hold {{ }} templates. */
  body: z.unknown().optional(),
});

/**
 * Connector step types, filled in by the connector registry (src/activities/registry.ts) through
 * declaration merging, so the language names no connector and this layer imports none.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by declaration merging
export interface ConnectorTypeNames {}
export type ConnectorType = ConnectorTypeNames extends { registered: infer T extends string } ? T : never;

/** What the language needs to know of the connectors; the connector registry is one. */
export interface ConnectorCatalog {
  types: readonly string[];
  get(type: string): LanguageConnector | undefined;
}
/** What validation and the published JSON Schema read of one connector (see src/activities/define-connector.ts). */
export interface LanguageConnector {
  description: string;
  configSchema: z.ZodType;
  defaults: { verbatim?: readonly string[] | undefined };
  literal?: Readonly<Record<string, string>> | undefined;
  connection?: { kind: { type: string }; required: boolean } | undefined;
}

/**
 * The built-in step types that hold no steps, one entry each; the interpreter runs each with its
 * file in src/workflows/steps/. The list of built-in types is read from here and `BLOCK_STEPS`.
 */
const LEAF_STEPS = [
  z.strictObject({ ...common, type: z.literal('delay'), config: DelayConfigSchema }),
  z.strictObject({ ...common, type: z.literal('transform'), config: TransformConfigSchema }),
  z.strictObject({ ...common, type: z.literal('succeed'), config: SucceedConfigSchema.optional() }),
  z.strictObject({ ...common, type: z.literal('fail'), config: FailConfigSchema.optional() }),
  z.strictObject({
    ...common,
    type: z.literal('choice'),
    /** The first case whose `when` holds picks the next step. */
    cases: z.array(z.strictObject({ when: ExpressionSchema, next: StepIdSchema })).min(1),
    /** Where to go when no case holds; without it the run continues with the following step. */
    default: StepIdSchema.optional(),
  }),
  z.strictObject({
    ...common,
    type: z.literal('wait_for_event'),
    config: WaitForEventConfigSchema,
    /** Where to go when the timeout passes; without it the step fails with EVENT_TIMEOUT. */
    onTimeout: StepIdSchema.optional(),
  }),
  z.strictObject({ ...common, type: z.literal('subworkflow'), config: SubworkflowConfigSchema }),
  z.strictObject({ ...common, type: z.literal('respond'), config: RespondConfigSchema }),
] as const;

type Common = z.infer<z.ZodObject<typeof common>>;
/** Steps that hold steps are typed by hand: zod cannot infer recursive types through a union. */
export interface ParallelStepDef extends Common {
  type: 'parallel';
  branches: Step[][];
  failFast?: boolean | undefined;
}
export interface ApprovalStepDef extends Common {
  type: 'approval';
  config: z.infer<typeof ApprovalConfigSchema>;
  notify?: Step[] | undefined;
  timeout: string;
  onTimeout?: string | undefined;
}
export interface ForeachStepDef extends Common {
  type: 'foreach';
  items: string;
  steps: Step[];
  concurrency?: number | undefined;
}

/** The built-in step types that hold steps, each checked with `step`, the schema of any step. */
const BLOCK_STEPS = (step: () => z.ZodType<Step>) =>
  [
    z.strictObject({
      ...common,
      type: z.literal('parallel'),
      get branches(): z.ZodArray<z.ZodArray<z.ZodType<Step>>> {
        return z.array(z.array(step()).min(1, 'a branch needs at least one step')).min(1).max(100);
      },
      /** true (default): the first failure cancels the other branches; false: wait for all, report every failure. */
      failFast: z.boolean().optional(),
    }),
    z.strictObject({
      ...common,
      type: z.literal('foreach'),
      /** An expression giving the list; `item` and `index` are in scope for the steps. */
      items: ExpressionSchema,
      get steps(): z.ZodArray<z.ZodType<Step>> {
        return z.array(step()).min(1, 'foreach needs at least one step');
      },
      concurrency: z.int().min(1).max(1000).optional(),
    }),
    z.strictObject({
      ...common,
      type: z.literal('approval'),
      config: ApprovalConfigSchema,
      /** Steps run once the links exist (an email, a Slack message): `approval.approveUrl`, `rejectUrl`, `expiresAt` are in scope. */
      get notify(): z.ZodOptional<z.ZodArray<z.ZodType<Step>>> {
        return z.array(step()).min(1).max(100).optional();
      },
      /** How long the links stay valid and the step waits: required. */
      timeout: DurationSchema,
      /** Where to go when nobody decided in time; without it the step fails with APPROVAL_TIMEOUT. */
      onTimeout: StepIdSchema.optional(),
    }),
  ] as const;

/** Step types the interpreter runs itself; a connector cannot take their names. */
export const BUILT_IN_STEP_TYPES: readonly string[] = [...LEAF_STEPS, ...BLOCK_STEPS(() => z.never())].map(
  (s) => s.shape.type.value,
);

const connectorStep = (types: readonly ConnectorType[]) =>
  z.strictObject({
    ...common,
    type: z.enum(types as [ConnectorType, ...ConnectorType[]]),
    config: ConfigObjectSchema,
    /** The name of the tenant's stored connection (server and credentials) the step uses. */
    connection: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a connection name is 1-100 characters of A-Z, a-z, 0-9, _ . -')
      .optional(),
    /** Overrides the connection's rate limit; `key` may be a {{ }} template (e.g. per customer). */
    rateLimit: RateLimitSchema.optional(),
    /**
     * Run as a local activity, inside the workflow task with no server round trip of its own (the
     * default for timeouts up to 30 s), or as a regular activity (longer calls, heartbeated).
     */
    local: z.boolean().optional(),
  });

export type ConnectorStep = z.infer<ReturnType<typeof connectorStep>>;
export type Step =
  z.infer<(typeof LEAF_STEPS)[number]> | ConnectorStep | ParallelStepDef | ForeachStepDef | ApprovalStepDef;
export type StepType = Step['type'];
export type BuiltInStepType = Exclude<StepType, ConnectorType>;

/** The step with this id anywhere in a list of steps, nested ones included. */
export function findStep(steps: Step[], id: string): Step | undefined {
  for (const step of steps) {
    if (step.id === id) return step;
    for (const block of nestedBlocks(step)) {
      const found = findStep(block.steps, id);
      if (found) return found;
    }
  }
  return undefined;
}

/** The blocks of steps nested in a step (parallel branches, foreach steps, an approval's notify steps). */
export function nestedBlocks(step: Step): { steps: Step[]; pointer: string }[] {
  if (step.type === 'parallel') return step.branches.map((steps, i) => ({ steps, pointer: `/branches/${i}` }));
  if (step.type === 'foreach') return [{ steps: step.steps, pointer: '/steps' }];
  if (step.type === 'approval' && step.notify) return [{ steps: step.notify, pointer: '/notify' }];
  return [];
}

/** The shortest and longest SLA a workflow may set. */
export const SLA_BOUNDS = { minMs: 1_000, maxMs: 366 * 86_400_000 } as const;

/** A failure workflow: the workflow started when a run fails, parks a dead letter, times out or breaches its SLA. */
export const FailureTargetSchema = z.strictObject({
  workflowId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^\P{Cc}+$/u, 'a workflow id has no control characters'),
  /** Pinned version; the latest when omitted. */
  version: z.int().min(1).max(1_000_000_000).optional(),
});
export type FailureTarget = z.infer<typeof FailureTargetSchema>;

export const SLA_ACTIONS = ['alert', 'cancel', 'alert_and_cancel'] as const;

/** How long a run may take before it breaches its SLA, and what a breach does. */
export const SlaSchema = z.strictObject({
  maxDuration: DurationSchema.refine((d) => {
    const ms = DURATION_PATTERN.test(d) ? toMillis(d) : 0;
    return ms >= SLA_BOUNDS.minMs && ms <= SLA_BOUNDS.maxMs;
  }, 'an SLA lasts from 1s to 366d').describe("From the run's start; from 1s to 366d"),
  onBreach: z.enum(SLA_ACTIONS),
});
export type Sla = z.infer<typeof SlaSchema>;

export const DefaultsSchema = z.strictObject({ retry: RetrySchema.optional(), timeout: DurationSchema.optional() });

/** A definition's fields but its steps. */
export const definitionFields = {
  name: z.string().min(1).max(200),
  description: z.string().max(5000).optional(),
  /** JSON Schema of the trigger payload (documentation for callers). */
  input: z.record(z.string(), z.unknown()).optional(),
  defaults: DefaultsSchema.optional(),
  /** Upper bound on step executions in one sequence (the top level, a branch, a foreach item), so loops always end. Default 1000. */
  maxSteps: z.int().min(1).max(100_000).optional(),
  /** The whole run's time limit; past it the run ends as `timed_out`. */
  timeout: DurationSchema.optional(),
  /** At most `limit` runs (per value of `key`, an expression over `trigger`) at once; the rest wait durably, in order. */
  concurrency: z
    .strictObject({ limit: z.int().min(1).max(10_000), key: ExpressionSchema.max(1000).optional() })
    .optional(),
  /** At most this many runs start per second or per minute (per `key`); the rest wait durably, in order. */
  throttle: z
    .strictObject({
      perSecond: z.number().positive().max(1000).optional(),
      perMinute: z.number().positive().max(60_000).optional(),
      key: ExpressionSchema.max(1000).optional(),
    })
    .refine(
      (t) => (t.perSecond === undefined) !== (t.perMinute === undefined),
      'a throttle needs exactly one of perSecond and perMinute',
    )
    .optional(),
  /** Runs with the same `key` wait until `period` passes without a newer one; only the last runs, the others end superseded. */
  debounce: z.strictObject({ period: DurationSchema, key: ExpressionSchema.max(1000) }).optional(),
  /** An event posted to `POST /v1/events` under one of these (name, key) cancels the run, wherever it is; `key` is a template over `trigger`. */
  cancelOn: z
    .array(z.strictObject({ name: EventNameSchema, key: EventKeyTemplateSchema }))
    .min(1)
    .max(10)
    .optional(),
  /** The workflow started when a run of this one fails, parks a dead letter or times out; the tenant's default (PUT /v1/settings) when omitted. */
  onFailure: FailureTargetSchema.optional(),
  /** Past `maxDuration` from its start, a run alerts (starts its failure workflow with `trigger.breach`), is cancelled, or both. */
  sla: SlaSchema.optional(),
};

const DefinitionFieldsSchema = z.strictObject(definitionFields);
export type Definition = z.infer<typeof DefinitionFieldsSchema> & { steps: Step[] };

/** The language for one set of connectors: the schema of a step and of a whole definition, and every step type. */
export interface Language {
  step: z.ZodType<Step>;
  definition: z.ZodType<Definition>;
  stepTypes: readonly string[];
}

const languages = new WeakMap<ConnectorCatalog, Language>();

/** The language whose connector steps are those of `connectors` (built once per catalog). */
export function languageOf(connectors: ConnectorCatalog): Language {
  const known = languages.get(connectors);
  if (known) return known;
  const types = connectors.types as readonly ConnectorType[];
  const step: z.ZodType<Step> = z.discriminatedUnion('type', [
    ...LEAF_STEPS,
    ...BLOCK_STEPS(() => step),
    ...(types.length > 0 ? [connectorStep(types)] : []),
  ]);
  const language: Language = {
    step,
    definition: DefinitionFieldsSchema.extend({
      steps: z.array(step).min(1, 'a workflow needs at least one step'),
    }),
    stepTypes: [...BUILT_IN_STEP_TYPES, ...types],
  };
  languages.set(connectors, language);
  return language;
}

/**
 * The DSL as JSON Schema (draft 2020-12), served at `GET /v1/schema/workflow`. Each connector's
 * config schema is published under `$defs` (`<type>Config`), from the connector catalog; a
 * string holding a `{{ }}` template may stand for a value of any type there.
 */
export function definitionJsonSchema(connectors: ConnectorCatalog): Record<string, unknown> {
  const schema = z.toJSONSchema(languageOf(connectors).definition, { target: 'draft-2020-12', unrepresentable: 'any' });
  const defs: Record<string, unknown> = { ...(isRecord(schema.$defs) ? schema.$defs : {}) };
  for (const type of connectors.types) {
    const connector = connectors.get(type);
    if (connector)
      defs[`${type}Config`] = {
        description: connector.description,
        ...z.toJSONSchema(connector.configSchema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' }),
      };
  }
  return { ...schema, $defs: defs };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

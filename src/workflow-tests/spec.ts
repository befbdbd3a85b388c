import { basename } from 'node:path';
import { z } from 'zod';
import { DurationSchema } from '../definitions/schema.js';

const ErrorMockSchema = z.strictObject({
  code: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
  message: z.string().max(2000).optional(),
  /** false: fails the step at once, whatever its retry policy (default: retried as the policy says). */
  retryable: z.boolean().optional(),
});
/** One attempt's result: an output, or an error. */
const AttemptMockSchema = z.union([
  z.strictObject({ output: z.unknown() }),
  z.strictObject({ error: ErrorMockSchema }),
]);
/** A step's mock: one result for every attempt, a list (attempt n takes the n-th, the last repeats), or `real`. */
export const MockSchema = z.union([z.literal('real'), AttemptMockSchema, z.array(AttemptMockSchema).min(1).max(100)]);
export type Mock = z.infer<typeof MockSchema>;
export type AttemptMock = z.infer<typeof AttemptMockSchema>;

const EventSchema = z.strictObject({
  name: z.string().min(1).max(200),
  payload: z.unknown().optional(),
  /** Sent once this step waits (a wait_for_event step); else at once. */
  at: z.string().min(1).max(100).optional(),
  /** Sent after this much time on the test server's clock (skipped, not waited for). */
  after: DurationSchema.optional(),
});

const StepExpectSchema = z.strictObject({
  status: z.enum(['completed', 'failed', 'skipped', 'cancelled', 'running', 'waiting']).optional(),
  attempts: z.int().min(0).optional(),
  output: z.unknown().optional(),
  error: z.strictObject({ code: z.string() }).optional(),
});

const ExpectSchema = z.strictObject({
  status: z.enum(['completed', 'failed', 'cancelled', 'timed_out']).optional(),
  output: z.unknown().optional(),
  error: z.strictObject({ code: z.string(), message: z.string().optional() }).optional(),
  steps: z.record(z.string(), StepExpectSchema).optional(),
  /** These steps ran (others may have too). */
  ran: z.array(z.string()).max(500).optional(),
  /** These steps did not run. */
  notRan: z.array(z.string()).max(500).optional(),
});

const CaseSchema = z.strictObject({
  name: z.string().min(1).max(200),
  trigger: z.unknown().optional(),
  mocks: z.record(z.string(), MockSchema).default({}),
  events: z.array(EventSchema).max(100).default([]),
  expect: ExpectSchema,
});
export type TestCase = z.infer<typeof CaseSchema>;
export type Expectations = z.infer<typeof ExpectSchema>;

/** A test file: a definition (a path or inline) and one case (its fields at the top) or several (`cases`). */
export const TestFileSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    definition: z.union([z.string().min(1).max(1000), z.record(z.string(), z.unknown())]),
    trigger: z.unknown().optional(),
    mocks: z.record(z.string(), MockSchema).optional(),
    events: z.array(EventSchema).max(100).optional(),
    expect: ExpectSchema.optional(),
    cases: z.array(CaseSchema).min(1).max(200).optional(),
  })
  .refine((f) => (f.expect === undefined) !== (f.cases === undefined), {
    message: 'a test file has either expect (one case) or cases',
  });
export type TestFile = z.infer<typeof TestFileSchema>;

/** The cases of a file, a single case named after the file (or its `name`). */
export function casesOf(file: TestFile, path: string): TestCase[] {
  if (file.cases) return file.cases;
  return [
    {
      name: file.name ?? basename(path).replace(/\.test\.(json|ya?ml)$/, ''),
      trigger: file.trigger,
      mocks: file.mocks ?? {},
      events: file.events ?? [],
      expect: file.expect ?? {},
    },
  ];
}

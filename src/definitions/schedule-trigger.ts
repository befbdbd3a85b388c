import { z } from '@hono/zod-openapi';
import { DurationSchema } from './schema.js';

export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow_all', 'cancel_other'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** What a schedule trigger says, apart from its type: when it fires, how firings overlap, the payload. */
const scheduleFields = {
  cron: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'Cron expression, e.g. "0 9 * * 1-5" (Temporal\'s cron syntax)', example: '0 9 * * 1-5' }),
  every: DurationSchema.optional().openapi({
    description: 'An interval instead of cron, e.g. "2s", "10m"',
    example: '10m',
  }),
  timezone: z
    .string()
    .max(100)
    .refine(isTimeZone, 'not an IANA time zone such as Europe/Berlin')
    .optional()
    .openapi({ description: 'IANA zone cron is read in (default UTC)', example: 'Europe/Berlin' }),
  overlap: z
    .enum(OVERLAP_POLICIES)
    .optional()
    .openapi({ description: 'What a firing does while the previous run still runs (default skip)' }),
  catchupWindow: DurationSchema.optional().openapi({
    description: 'How late a missed firing (server down) may still start (default 1m, at least 10s)',
  }),
  jitter: DurationSchema.optional().openapi({ description: 'Each firing is delayed by a random amount up to this' }),
  startAt: z.iso.datetime({ offset: true }).optional(),
  endAt: z.iso.datetime({ offset: true }).optional(),
  input: z.unknown().optional().openapi({ description: 'The trigger payload of every run (`trigger` in expressions)' }),
  version: z
    .int()
    .min(1)
    .optional()
    .openapi({ description: 'Pin runs to this version; the latest at each firing when omitted' }),
};

const oneWhen = (s: { cron?: string; every?: string }) => (s.cron === undefined) !== (s.every === undefined);
const WHEN_MESSAGE = { message: 'a schedule needs exactly one of cron and every', path: ['cron'] };

export const ScheduleSettingsSchema = z.strictObject(scheduleFields).refine(oneWhen, WHEN_MESSAGE);
export type ScheduleSettings = z.infer<typeof ScheduleSettingsSchema>;

export const ScheduleTriggerBodySchema = z
  .strictObject({ type: z.literal('schedule'), ...scheduleFields })
  .refine(oneWhen, WHEN_MESSAGE)
  .openapi('ScheduleTriggerBody');

/** PATCH: any field of the schedule; `cron` and `every` replace each other, `null` clears an optional field. */
export const TriggerPatchSchema = z
  .strictObject({
    cron: z.string().min(1).max(200).nullable().optional(),
    every: DurationSchema.nullable().optional(),
    timezone: scheduleFields.timezone.unwrap().nullable().optional(),
    overlap: z.enum(OVERLAP_POLICIES).optional(),
    catchupWindow: DurationSchema.nullable().optional(),
    jitter: DurationSchema.nullable().optional(),
    startAt: z.iso.datetime({ offset: true }).nullable().optional(),
    endAt: z.iso.datetime({ offset: true }).nullable().optional(),
    input: z.unknown().optional(),
    version: z.int().min(1).nullable().optional(),
  })
  .openapi('ScheduleTriggerPatch');
export type TriggerPatch = z.infer<typeof TriggerPatchSchema>;

/** A patch applied to stored settings: `null` removes a field, `cron` and `every` replace each other. */
export function applyPatch(settings: ScheduleSettings, patch: TriggerPatch): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...settings };
  if (patch.cron != null) delete merged.every;
  if (patch.every != null) delete merged.cron;
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return merged;
}

export const BackfillBodySchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    overlap: z
      .enum(OVERLAP_POLICIES)
      .optional()
      .openapi({ description: 'How backfilled firings overlap each other (default allow_all)' }),
  })
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), { message: 'from must be before to', path: ['to'] })
  .openapi('TriggerBackfill');

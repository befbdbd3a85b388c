import { z } from '@hono/zod-openapi';
import { syntaxError } from './expressions/evaluate.js';
import { DEFINITION_LIMITS } from '../shared/run-limits.js';

/** The suffix of the dead-letter topic beside each trigger's topic. */
export const DLQ_SUFFIX = '.dlq';

/** Kafka's own rule for topic names. */
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** A JSONata expression over the message, checked for syntax when the trigger is saved. */
const expression = (what: string) =>
  z
    .string()
    .min(1)
    .max(DEFINITION_LIMITS.expressionLength)
    .superRefine((expr, ctx) => {
      const error = syntaxError(expr);
      if (error) ctx.addIssue({ code: 'custom', message: `${what} does not parse: ${error}` });
    });

const kafkaFields = {
  topic: z
    .string()
    .regex(TOPIC, 'a Kafka topic name: letters, digits, ".", "_" and "-", at most 249')
    .openapi({ example: 'user_created' }),
  filter: expression('filter').optional().openapi({
    description:
      'JSONata over the message `{key, value, headers, topic, partition, offset}`; the run starts only when it is true',
    example: "value.plan = 'pro'",
  }),
  key: expression('key').optional().openapi({
    description:
      'JSONata over the message giving its identity: messages with the same key start one run per trigger (default: topic, partition and offset)',
    example: 'value.eventId',
  }),
  version: z
    .int()
    .min(1)
    .optional()
    .openapi({ description: 'Pin runs to this version; the latest when each message arrives when omitted' }),
};

export const KafkaSettingsSchema = z.strictObject(kafkaFields);
export type KafkaSettings = z.infer<typeof KafkaSettingsSchema>;

export const KafkaTriggerBodySchema = z
  .strictObject({ type: z.literal('kafka'), ...kafkaFields })
  .openapi('KafkaTriggerBody');

/** The fields of a Kafka trigger a PATCH may set; `null` clears `filter`, `key` or `version`. */
export const KAFKA_PATCH_FIELDS = {
  topic: kafkaFields.topic.optional(),
  filter: kafkaFields.filter.unwrap().nullable().optional(),
  key: kafkaFields.key.unwrap().nullable().optional(),
};
export const KafkaPatchSchema = z.strictObject({
  ...KAFKA_PATCH_FIELDS,
  version: z.int().min(1).nullable().optional(),
});
export type KafkaPatch = z.infer<typeof KafkaPatchSchema>;

/** A patch applied to stored settings: `null` removes a field. */
export function applyKafkaPatch(settings: KafkaSettings, patch: KafkaPatch): KafkaSettings {
  const merged: Record<string, unknown> = { ...settings };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return KafkaSettingsSchema.parse(merged);
}

/** The topic a Kafka trigger's failed messages go to: the configured one, else `<topic>.dlq`. */
export const deadLetterTopic = (config: { KAFKA_DLQ_TOPIC?: string | undefined }, topic: string): string =>
  config.KAFKA_DLQ_TOPIC ?? `${topic}${DLQ_SUFFIX}`;

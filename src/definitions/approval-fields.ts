import { z } from 'zod';

/**
 * The form of an `approval` step: a subset of JSON Schema. An object of at most 20 named fields,
 * each a string (optionally one of `enum`, bounded by `minLength`/`maxLength`), a number or an
 * integer (`minimum`/`maximum`) or a boolean, with a `title` and `description` for the page.
 * @example { "type": "object", "properties": { "amount": { "type": "number", "maximum": 500 } }, "required": ["amount"] }
 */
const FieldName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a field name is 1-64 characters of A-Z, a-z, 0-9, _');
const described = { title: z.string().max(200).optional(), description: z.string().max(1000).optional() };
const StringField = z.strictObject({
  type: z.literal('string'),
  ...described,
  enum: z.array(z.string().max(200)).min(1).max(50).optional(),
  minLength: z.int().min(0).max(10_000).optional(),
  maxLength: z.int().min(1).max(10_000).optional(),
});
const NumberField = z.strictObject({
  type: z.enum(['number', 'integer']),
  ...described,
  minimum: z.number().optional(),
  maximum: z.number().optional(),
});
const BooleanField = z.strictObject({ type: z.literal('boolean'), ...described });
export const ApprovalFieldSchema = z.discriminatedUnion('type', [StringField, NumberField, BooleanField]);
export type ApprovalField = z.infer<typeof ApprovalFieldSchema>;

export const ApprovalFieldsSchema = z
  .strictObject({
    type: z.literal('object'),
    properties: z
      .record(FieldName, ApprovalFieldSchema)
      .refine((p) => Object.keys(p).length >= 1 && Object.keys(p).length <= 20, 'a form has 1-20 fields'),
    required: z.array(FieldName).max(20).optional(),
  })
  .refine((f) => (f.required ?? []).every((name) => Object.hasOwn(f.properties, name)), {
    message: 'every required field is one of properties',
    path: ['required'],
  });
export type ApprovalFields = z.infer<typeof ApprovalFieldsSchema>;

/** A string field holds at most this many characters unless its `maxLength` says otherwise. */
const DEFAULT_MAX_LENGTH = 2000;

export type FieldsResult = { ok: true; fields: Record<string, unknown> } | { ok: false; problems: string[] };

/**
 * Checks what an approver submitted against the form. `fromForm`: the values came from an HTML
 * form, so numbers arrive as text and an unticked box as nothing; they are converted first.
 * Fields the form does not declare are refused.
 */
export function checkFields(form: ApprovalFields | undefined, raw: unknown, fromForm: boolean): FieldsResult {
  const values = raw === undefined || raw === null ? {} : raw;
  if (typeof values !== 'object' || Array.isArray(values)) return { ok: false, problems: ['fields is an object'] };
  const problems: string[] = [];
  const fields: Record<string, unknown> = {};
  const properties = form?.properties ?? {};
  for (const name of Object.keys(values)) if (!Object.hasOwn(properties, name)) problems.push(`'${name}' is no field`);
  for (const [name, field] of Object.entries(properties)) {
    let value: unknown = (values as Record<string, unknown>)[name];
    if (fromForm) value = fromText(field, value);
    if (value === undefined || value === '') {
      if (form?.required?.includes(name)) problems.push(`'${name}' is required`);
      continue;
    }
    const problem = fieldProblem(field, value);
    if (problem) problems.push(`'${name}' ${problem}`);
    else fields[name] = value;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, fields };
}

function fromText(field: ApprovalField, value: unknown): unknown {
  if (field.type === 'boolean') return value === 'on' || value === 'true';
  if ((field.type === 'number' || field.type === 'integer') && typeof value === 'string' && value.trim() !== '')
    return Number(value);
  return value;
}

function fieldProblem(field: ApprovalField, value: unknown): string | undefined {
  switch (field.type) {
    case 'string': {
      if (typeof value !== 'string') return 'is a string';
      if (field.enum && !field.enum.includes(value)) return `is one of ${field.enum.join(', ')}`;
      if (value.length < (field.minLength ?? 0)) return `has at least ${field.minLength} characters`;
      const max = field.maxLength ?? DEFAULT_MAX_LENGTH;
      return value.length > max ? `has at most ${max} characters` : undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'is true or false';
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'is a number';
      if (field.type === 'integer' && !Number.isInteger(value)) return 'is a whole number';
      if (field.minimum !== undefined && value < field.minimum) return `is at least ${field.minimum}`;
      return field.maximum !== undefined && value > field.maximum ? `is at most ${field.maximum}` : undefined;
    }
  }
}

import { z } from 'zod';
import { parseSecretReference } from '../definitions/secret-reference.js';
import { AppError } from '../shared/errors.js';
import { replaceStrings } from '../shared/json-values.js';
import type { ConnectorDeps } from './define-connector.js';

/**
 * A stored secret field holds exactly this, never the value: `$secret('name')` (the sealed store)
 * or `$secret('store:path#field')` (an external store; see definitions/secret-reference.ts).
 */
export const SECRET_REFERENCE = /^\$secret\('([A-Za-z0-9_.:/@#+=,-]{1,800})'\)$/;

const SecretReferenceSchema = z
  .string()
  .regex(
    SECRET_REFERENCE,
    "a secret field holds a $secret('name') or $secret('store:path#field') reference, never the value",
  )
  .superRefine((text, ctx) => {
    const inner = SECRET_REFERENCE.exec(text)?.[1];
    // Not a reference at all: the pattern above already said so.
    if (inner === undefined) return;
    const parsed = parseSecretReference(inner);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.problem });
  });
const SecretValueSchema = z.string().min(1);
/** What a secret field reads as when looking for references elsewhere: anything but a reference. */
const SECRET_FIELD = '\u0000secret-field';
const MarkedSecretSchema = z.string().overwrite(() => SECRET_FIELD);
/** A `$secret(` anywhere in a value, however it is spaced. */
const SECRET_CALL = /\$secret\s*\(/;

/** The resolved config type of a connection kind. */
export type ConnectionConfig<K> = K extends ConnectionKind<infer C> ? C : never;

/** What parses a resolved config: a zod schema, typed by what it gives. */
export interface Parser<C> {
  safeParse(data: unknown): z.ZodSafeParseResult<C>;
}

/** What a connection check gets: the abort signal of its time limit and the connectors' dependencies. */
export interface ConnectionTestContext {
  signal: AbortSignal;
  deps: ConnectorDeps;
}

/**
 * A kind of stored connection (`smtp`, `postgres`, ...): its config schema, checked twice (as
 * stored, secret fields being `$secret()` references; as resolved inside an activity, with the
 * values), and the check behind `POST /v1/connections/{name}/test`.
 */
export interface ConnectionKind<C = unknown> {
  type: string;
  description: string;
  example: Record<string, unknown>;
  storedSchema: z.ZodType;
  resolvedSchema: Parser<C>;
  /**
   * The JSON pointers (under `/config`) of `$secret()` references outside the fields declared
   * secret: there they would be resolved and could be shown (a host in an error or an answer).
   */
  misplacedSecrets(config: unknown): string[];
  /** Proves the connection works (a handshake, `SELECT 1`, a metadata request); answers what it learnt. */
  test: (config: C, ctx: ConnectionTestContext) => Promise<Record<string, unknown>>;
  /** The same kind with its config type erased, as registries hold it. */
  erased: ConnectionKind;
}

/**
 * Declares a connection kind. `schema` is given the schema of a secret field and builds the
 * config schema from it, so the stored and the resolved forms cannot drift apart.
 * @example defineConnectionKind({ type: 'smtp', description: 'An SMTP server', example: { host: 'smtp.example.com' },
 *   schema: (secret) => z.strictObject({ host: z.string(), password: secret.optional() }), test: async () => ({}) })
 */
export function defineConnectionKind<S extends z.ZodType>(spec: {
  type: string;
  description: string;
  example: Record<string, unknown>;
  schema: (secret: z.ZodString) => S;
  test: (config: z.output<S>, ctx: ConnectionTestContext) => Promise<Record<string, unknown>>;
}): ConnectionKind<z.output<S>> {
  const resolvedSchema: Parser<z.output<S>> = spec.schema(SecretValueSchema);
  const marked = spec.schema(MarkedSecretSchema);
  const base = {
    type: spec.type,
    description: spec.description,
    example: spec.example,
    storedSchema: spec.schema(SecretReferenceSchema),
    misplacedSecrets: (config: unknown) => {
      const parsed = marked.safeParse(config);
      // A config that does not parse is refused for that; raw strings are judged then.
      return stringsWith(parsed.success ? parsed.data : config, SECRET_CALL, '/config');
    },
  };
  const erased: ConnectionKind = {
    ...base,
    resolvedSchema,
    test: (config, ctx) => spec.test(parseResolved(resolvedSchema, config, spec.type), ctx),
    get erased(): ConnectionKind {
      return erased;
    },
  };
  return { ...base, resolvedSchema, test: spec.test, erased };
}

/** The pointers of the strings in a JSON value that match `pattern`. */
function stringsWith(value: unknown, pattern: RegExp, pointer: string): string[] {
  if (typeof value === 'string') return pattern.test(value) ? [pointer] : [];
  const at = (k: string | number) => `${pointer}/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsWith(v, pattern, at(i)));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => stringsWith(v, pattern, at(k)));
  return [];
}

/**
 * Refuses a stored connection whose `$secret()` references sit outside its secret fields (stored
 * before that was refused at save): they are never resolved there.
 */
export function assertSecretsPlaced(kind: ConnectionKind, config: unknown, name: string): void {
  const misplaced = kind.misplacedSecrets(config);
  if (misplaced.length === 0) return;
  throw new AppError({
    code: 'INVALID_CONNECTION',
    message: `connection '${name}' holds $secret() outside its secret fields (${misplaced.join(', ')}); only secret fields resolve secrets`,
    httpStatus: 400,
  });
}

/** The resolved config of a connection, or INVALID_CONNECTION naming what is wrong (not retried). */
export function parseResolved<C>(schema: Parser<C>, config: unknown, name: string): C {
  const parsed = schema.safeParse(config);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
  throw new AppError({
    code: 'INVALID_CONNECTION',
    message: `connection '${name}' is invalid: ${problems.join('; ')}`,
    httpStatus: 400,
  });
}

/**
 * Swaps the `$secret('name')` references of a stored connection's config for their values and
 * returns the values used, so they can be redacted from whatever leaves the activity.
 */
export async function revealReferences(
  value: unknown,
  reveal: (name: string) => Promise<string>,
): Promise<{ value: unknown; used: string[] }> {
  const used: string[] = [];
  const revealed = await replaceStrings(value, async (text) => {
    const name = SECRET_REFERENCE.exec(text)?.[1];
    if (name === undefined) return text;
    const secret = await reveal(name);
    used.push(secret);
    return secret;
  });
  return { value: revealed, used: used.filter((s) => s.length > 0) };
}

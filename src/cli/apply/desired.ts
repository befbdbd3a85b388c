import { z } from 'zod';
import { definitionAt, isTestFile, listFiles, readDataFile } from '../../shared/data-files.js';
import { UsageError } from '../output.js';

/** A workflow's key: the same rule as the API's (`?key=`). */
export const KeySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a key is 1-100 characters of A-Z, a-z, 0-9, _ . -');
const text = z.string().min(1).max(1000);
const version = z.int().min(1).optional();
/** A trigger's fields, as the API takes them (`POST /v1/workflows/{id}/triggers`), which checks their values. */
const TriggerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('schedule'),
    cron: text.optional(),
    every: text.optional(),
    timezone: text.optional(),
    overlap: z.enum(['skip', 'buffer_one', 'allow_all', 'cancel_other']).optional(),
    catchupWindow: text.optional(),
    jitter: text.optional(),
    startAt: text.optional(),
    endAt: text.optional(),
    input: z.unknown().optional(),
    version,
  }),
  z.strictObject({ type: z.literal('kafka'), topic: text, filter: text.optional(), key: text.optional(), version }),
]);
export type TriggerBody = z.infer<typeof TriggerSchema>;

const WorkflowFileSchema = z.strictObject({
  key: KeySchema,
  definition: z.union([z.string().min(1).max(1000), z.record(z.string(), z.unknown())]),
  triggers: z.array(TriggerSchema).max(100).default([]),
});
const ConnectionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
  type: z.string().min(1).max(40),
  config: z.record(z.string(), z.unknown()),
  rateLimit: z.record(z.string(), z.unknown()).optional(),
});
const ConnectionsFileSchema = z.strictObject({ connections: z.array(ConnectionSchema).max(500) });

export interface WorkflowSpec {
  key: string;
  definition: Record<string, unknown>;
  triggers: TriggerBody[];
  file: string;
}
export type ConnectionSpec = z.infer<typeof ConnectionSchema> & { file: string };
export interface Desired {
  workflows: WorkflowSpec[];
  connections: ConnectionSpec[];
}

const problem = (file: string, error: z.ZodError) => new UsageError(`${file}:\n${z.prettifyError(error)}`);

/**
 * The workflows and connections the files describe. A directory is searched; each file is a
 * workflow (`{key, definition, triggers}`), a list of connections (`{connections: [...]}`), a
 * definition that a workflow file names by path, or a test (`*.test.yaml`, skipped). Anything
 * else, or a key or connection named twice, is refused.
 */
export async function readDesired(paths: readonly string[]): Promise<Desired> {
  const desired: Desired = { workflows: [], connections: [] };
  const named = new Set<string>();
  const loose: string[] = [];
  for (const file of await listFiles(paths, (p) => !isTestFile(p))) {
    const raw = await readDataFile(file);
    if (typeof raw === 'object' && raw !== null && 'key' in raw) {
      const parsed = WorkflowFileSchema.safeParse(raw);
      if (!parsed.success) throw problem(file, parsed.error);
      const { definition, path } = await definitionAt(parsed.data.definition, file);
      if (path) named.add(path);
      desired.workflows.push({ ...parsed.data, definition, file });
    } else if (typeof raw === 'object' && raw !== null && 'connections' in raw) {
      const parsed = ConnectionsFileSchema.safeParse(raw);
      if (!parsed.success) throw problem(file, parsed.error);
      // The API refuses a secret field that is not a $secret('name') reference, and stores none in clear.
      desired.connections.push(...parsed.data.connections.map((c) => ({ ...c, file })));
    } else loose.push(file);
  }
  const unknown = loose.filter((f) => !named.has(f));
  if (unknown.length)
    throw new UsageError(
      `not workflow or connection files (a workflow file is {key, definition, triggers}):\n  ${unknown.join('\n  ')}`,
    );
  assertUnique(
    desired.workflows.map((w) => ({ name: w.key, file: w.file })),
    'key',
  );
  assertUnique(
    desired.connections.map((c) => ({ name: c.name, file: c.file })),
    'connection',
  );
  return desired;
}

function assertUnique(items: { name: string; file: string }[], what: string): void {
  const seen = new Map<string, string>();
  for (const { name, file } of items) {
    const first = seen.get(name);
    if (first) throw new UsageError(`${what} '${name}' is in both ${first} and ${file}`);
    seen.set(name, file);
  }
}

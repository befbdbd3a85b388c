import { isDeepStrictEqual } from 'node:util';
import type { ApiClient } from '../client.js';
import { ok } from '../client.js';
import {
  allConnections,
  allWorkflows,
  latestDefinition,
  triggersOf,
  type Connection,
  type Trigger,
} from '../live-state.js';
import { ApiProblem } from '../output.js';
import type { ConnectionSpec, Desired, TriggerBody, WorkflowSpec } from './desired.js';
import { fieldDiff, type FieldChange } from '../../shared/json-diff.js';

export type Action = 'create' | 'update' | 'unchanged' | 'delete';

export type Change =
  | {
      kind: 'workflow';
      action: Action;
      key: string;
      id?: string;
      name: string;
      changes: FieldChange[];
      spec?: WorkflowSpec;
    }
  | {
      kind: 'trigger';
      action: Exclude<Action, 'update'>;
      key: string;
      id?: string;
      shape: Record<string, unknown>;
      body?: TriggerBody;
    }
  | {
      kind: 'connection';
      action: Exclude<Action, 'delete'>;
      name: string;
      changes: FieldChange[];
      spec?: ConnectionSpec;
    };

export interface Plan {
  changes: Change[];
  counts: Record<Action, number>;
}

const SCHEDULE_FIELDS = [
  'cron',
  'every',
  'timezone',
  'overlap',
  'catchupWindow',
  'jitter',
  'startAt',
  'endAt',
  'input',
  'version',
];
const KAFKA_FIELDS = ['topic', 'filter', 'key', 'version'];

/** What a trigger does, as a file says it and as the API answers it: its settings, defaults filled in. */
export function triggerShape(t: TriggerBody | Trigger): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...t };
  const shape: Record<string, unknown> = { type: t.type };
  for (const f of t.type === 'kafka' ? KAFKA_FIELDS : SCHEDULE_FIELDS)
    if (fields[f] !== undefined && fields[f] !== null) shape[f] = fields[f];
  if (t.type === 'schedule') shape.overlap ??= 'skip';
  return shape;
}

/** Desired triggers matched with live ones by what they do: the unmatched are created or deleted. */
function triggerChanges(key: string, desired: readonly TriggerBody[], live: readonly Trigger[]): Change[] {
  const left = live.map((t) => ({ id: t.id, shape: triggerShape(t) }));
  const changes: Change[] = [];
  for (const body of desired) {
    const shape = triggerShape(body);
    const i = left.findIndex((l) => isDeepStrictEqual(l.shape, shape));
    if (i >= 0) changes.push({ kind: 'trigger', action: 'unchanged', key, id: left.splice(i, 1)[0]?.id, shape });
    else changes.push({ kind: 'trigger', action: 'create', key, shape, body });
  }
  return [...left.map((l): Change => ({ kind: 'trigger', action: 'delete', key, ...l })), ...changes];
}

/** The API validates each definition first; a refusal names the file. */
async function validate(api: ApiClient, spec: WorkflowSpec): Promise<void> {
  try {
    await ok(api.POST('/v1/workflows/validate', { body: spec.definition }));
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    throw new ApiProblem(err.status, { ...err.problem, detail: `${spec.file}: ${err.message}` });
  }
}

function connectionChange(spec: ConnectionSpec, live: Connection | undefined): Change {
  const want = { type: spec.type, config: spec.config, rateLimit: spec.rateLimit ?? null };
  if (!live) return { kind: 'connection', action: 'create', name: spec.name, changes: [], spec };
  const changes = fieldDiff({ type: live.type, config: live.config, rateLimit: live.rateLimit }, want);
  return { kind: 'connection', action: changes.length ? 'update' : 'unchanged', name: spec.name, changes, spec };
}

/**
 * What applying the files would change on the tenant: workflows matched by key, triggers by what
 * they do, connections by name. With `prune`, live workflows that carry a key no file has are deleted
 * (archived, their triggers deleted); workflows made without a key are never touched.
 */
export async function makePlan(api: ApiClient, desired: Desired, opts: { prune: boolean }): Promise<Plan> {
  const changes: Change[] = [];
  const liveConnections = new Map((await allConnections(api)).map((c) => [c.name, c]));
  for (const spec of desired.connections) changes.push(connectionChange(spec, liveConnections.get(spec.name)));

  const live = await allWorkflows(api);
  const byKey = new Map(live.flatMap((w) => (w.key ? [[w.key, w] as const] : [])));
  for (const spec of desired.workflows) {
    await validate(api, spec);
    const name = String(spec.definition.name ?? spec.key);
    const current = byKey.get(spec.key);
    if (!current) {
      changes.push({ kind: 'workflow', action: 'create', key: spec.key, name, changes: [], spec });
      changes.push(...triggerChanges(spec.key, spec.triggers, []));
      continue;
    }
    const diff = fieldDiff(await latestDefinition(api, current.id), spec.definition);
    const action = diff.length ? 'update' : 'unchanged';
    changes.push({ kind: 'workflow', action, key: spec.key, id: current.id, name, changes: diff, spec });
    changes.push(...triggerChanges(spec.key, spec.triggers, await triggersOf(api, current.id)));
  }
  if (opts.prune) {
    const keep = new Set(desired.workflows.map((w) => w.key));
    for (const w of live.filter((l) => l.key && !keep.has(l.key))) {
      const key = w.key ?? '';
      changes.push({ kind: 'workflow', action: 'delete', key, id: w.id, name: w.name, changes: [] });
      changes.push(...triggerChanges(key, [], await triggersOf(api, w.id)));
    }
  }
  const counts: Record<Action, number> = { create: 0, update: 0, unchanged: 0, delete: 0 };
  for (const c of changes) counts[c.action]++;
  return { changes, counts };
}

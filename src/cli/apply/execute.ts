import type { ApiClient } from '../client.js';
import { describeChange as describeField } from '../../shared/json-diff.js';
import { done, ok } from '../client.js';
import type { Change, Plan } from './plan.js';

const SYMBOL = { create: '+', update: '~', delete: '-', unchanged: '=' } as const;

/** A change as a person reads it, with the fields it changes under it. */
export function describe(c: Change): string[] {
  const head =
    c.kind === 'workflow'
      ? `${SYMBOL[c.action]} workflow ${c.key} (${c.name})${c.id ? ` ${c.id}` : ''}`
      : c.kind === 'trigger'
        ? `${SYMBOL[c.action]} trigger of ${c.key}: ${JSON.stringify(c.shape)}${c.id ? ` ${c.id}` : ''}`
        : `${SYMBOL[c.action]} connection ${c.name}`;
  const fields = c.kind === 'trigger' ? [] : c.changes;
  return [head, ...fields.map((f) => `    ${describeField(f)}`)];
}

/** The summary line of a plan: what would change, or that nothing would. */
export function summary(plan: Plan, verb: 'Plan' | 'Applied'): string {
  const { create, update, delete: remove, unchanged } = plan.counts;
  if (create + update + remove === 0) return `No changes: ${unchanged} unchanged.`;
  const to = verb === 'Plan' ? ' to' : '';
  return `${verb}: ${create}${to} create, ${update}${to} update, ${remove}${to} delete, ${unchanged} unchanged.`;
}

/**
 * Carries a plan out in an order that never leaves a trigger without its workflow: connections,
 * then workflows (a new one gets its key), triggers removed before new ones are added, and last
 * the pruned workflows archived (which deletes their triggers).
 */
export async function execute(api: ApiClient, plan: Plan, log: (c: Change) => void): Promise<void> {
  const ids = new Map<string, string>();
  for (const c of plan.changes) {
    if (c.kind !== 'connection' || !c.spec || c.action === 'unchanged') continue;
    const { name, type, config, rateLimit } = c.spec;
    if (c.action === 'create') await ok(api.POST('/v1/connections', { body: { name, type, config, rateLimit } }));
    else await ok(api.PUT('/v1/connections/{name}', { params: { path: { name } }, body: { type, config, rateLimit } }));
    log(c);
  }
  for (const c of plan.changes) {
    if (c.kind !== 'workflow' || c.action === 'delete') continue;
    if (c.id) ids.set(c.key, c.id);
    if (!c.spec || c.action === 'unchanged') continue;
    const created =
      c.action === 'create'
        ? await ok(api.POST('/v1/workflows', { params: { query: { key: c.key } }, body: c.spec.definition }))
        : await ok(api.PUT('/v1/workflows/{id}', { params: { path: { id: c.id ?? '' } }, body: c.spec.definition }));
    ids.set(c.key, created.id);
    log({ ...c, id: created.id });
  }
  const triggers = plan.changes.filter((c) => c.kind === 'trigger');
  for (const c of triggers.filter((t) => t.action === 'delete' && t.id)) {
    await done(api.DELETE('/v1/triggers/{id}', { params: { path: { id: c.id ?? '' } } }));
    log(c);
  }
  for (const c of triggers) {
    if (c.action !== 'create' || !c.body) continue;
    const id = ids.get(c.key) ?? '';
    const body = c.body;
    const made = await ok(api.POST('/v1/workflows/{id}/triggers', { params: { path: { id } }, body }));
    log({ ...c, id: made.id });
  }
  for (const c of plan.changes) {
    if (c.kind !== 'workflow' || c.action !== 'delete' || !c.id) continue;
    await done(api.DELETE('/v1/workflows/{id}', { params: { path: { id: c.id } } }));
    log(c);
  }
}

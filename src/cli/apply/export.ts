import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ApiClient } from '../client.js';
import { allConnections, allWorkflows, latestDefinition, triggersOf } from '../live-state.js';
import { triggerShape } from './plan.js';

/** A key for a workflow made without one: its name in lower case, dashes for the rest, made unique. */
function keyFor(name: string, taken: Set<string>): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, '-')
      .replace(/^[^a-z0-9]+|-+$/g, '')
      .slice(0, 90) || 'workflow';
  let key = base;
  for (let n = 2; taken.has(key); n++) key = `${base}-${n}`;
  taken.add(key);
  return key;
}

/**
 * Writes the tenant's live workflows (latest versions, with their triggers), one file per
 * workflow named by its key, and its connections in `connections.<ext>`, in the format
 * `mz apply` reads. Answers the files written.
 */
export async function exportTo(api: ApiClient, dir: string, format: 'yaml' | 'json'): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const text = (value: unknown) => (format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value));
  const workflows = await allWorkflows(api);
  const taken = new Set(workflows.flatMap((w) => (w.key ? [w.key] : [])));
  const written: string[] = [];
  for (const w of workflows.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    const key = w.key ?? keyFor(w.name, taken);
    const triggers = (await triggersOf(api, w.id)).map(triggerShape);
    const path = join(dir, `${key}.${format}`);
    await writeFile(path, text({ key, definition: await latestDefinition(api, w.id), triggers }));
    written.push(path);
  }
  const connections = (await allConnections(api)).map((c) => ({
    name: c.name,
    type: c.type,
    config: c.config,
    ...(c.rateLimit ? { rateLimit: c.rateLimit } : {}),
  }));
  if (connections.length) {
    const path = join(dir, `connections.${format}`);
    await writeFile(path, text({ connections }));
    written.push(path);
  }
  return written;
}

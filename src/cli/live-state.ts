import type { components } from './api-types.js';
import { ok, type ApiClient } from './client.js';

export type WorkflowSummary = components['schemas']['WorkflowSummary'];
export type Trigger = components['schemas']['Trigger'];
export type Connection = components['schemas']['Connection'];

/** Pages are followed at most this far: 200 a page, 100,000 workflows. */
const MAX_PAGES = 500;

/** Every live workflow of the tenant, all pages. */
export async function allWorkflows(api: ApiClient): Promise<WorkflowSummary[]> {
  const all: WorkflowSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await ok(api.GET('/v1/workflows', { params: { query: { limit: 200, cursor } } }));
    all.push(...answer.items);
    if (!answer.nextCursor) return all;
    cursor = answer.nextCursor;
  }
  return all;
}

export async function allConnections(api: ApiClient): Promise<Connection[]> {
  return (await ok(api.GET('/v1/connections'))).items;
}

export async function latestDefinition(api: ApiClient, id: string): Promise<unknown> {
  return (await ok(api.GET('/v1/workflows/{id}', { params: { path: { id } } }))).definition;
}

export async function triggersOf(api: ApiClient, id: string): Promise<Trigger[]> {
  return (await ok(api.GET('/v1/workflows/{id}/triggers', { params: { path: { id } } }))).items;
}

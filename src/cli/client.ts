import createClient from 'openapi-fetch';
import type { paths } from './api-types.js';
import { ApiProblem, UnreachableError } from './output.js';
import type { Target } from './profile.js';

/** A client typed by the API's OpenAPI document (src/cli/api-types.ts, `npm run openapi:types`). */
export function apiClient(target: Target) {
  return createClient<paths>({
    baseUrl: target.url,
    headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
    fetch: async (request) => {
      try {
        return await fetch(request, { signal: AbortSignal.timeout(60_000) });
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        throw new UnreachableError(`cannot reach ${target.url}${cause}`);
      }
    },
  });
}

export type ApiClient = ReturnType<typeof apiClient>;

type Answer<T> = Promise<{ data?: T; error?: unknown; response: Response }>;

function refused(status: number, error: unknown): ApiProblem {
  return new ApiProblem(status, typeof error === 'object' && error !== null ? error : { detail: String(error) });
}

/** The answer's body; an error answer throws as an ApiProblem. */
export async function ok<T>(call: Answer<T>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw refused(response.status, error ?? response.statusText);
  if (data === undefined) throw refused(response.status, `${response.url} answered no body`);
  return data;
}

/** Checks an answer without a body (204); an error answer throws as an ApiProblem. */
export async function done(call: Answer<unknown>): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) throw refused(response.status, error ?? response.statusText);
}

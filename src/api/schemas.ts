import { z } from '@hono/zod-openapi';
import type { RouteConfig } from '@hono/zod-openapi';
import { ProblemSchema } from './problem.js';

/** Shapes shared by the API's routes, named so the OpenAPI document references them. */
export const IdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'b0d7…' }),
});

export const PageQuerySchema = z.object({
  cursor: z.string().max(500).optional().openapi({ description: 'nextCursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const DefinitionBodySchema = z.record(z.string(), z.unknown()).openapi('WorkflowDefinition', {
  description: 'A workflow in the DSL; its full JSON Schema is served at GET /v1/schema/workflow',
});

export const CreatedSchema = z.object({ id: z.string(), version: z.number().int() }).openapi('WorkflowCreated');

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const problem = (description: string) => ({
  content: { 'application/problem+json': { schema: ProblemSchema } },
  description,
});

/** The error answers every route may give. */
export const errorResponses = {
  400: problem('Invalid input'),
  404: problem("Not found (or another tenant's)"),
  503: problem('A dependency is unavailable; retry'),
} satisfies RouteConfig['responses'];

export { json, problem };

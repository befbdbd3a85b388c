import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { registry } from '../activities/registry.js';
import { testStep } from '../activities/step-test-run.js';
import { validateStep } from '../definitions/validate.js';
import { runLimits } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import { apiConnectorDeps } from './connector-deps.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { requires } from './middleware/scopes.js';
import { errorResponses, json } from './schemas.js';

const BodySchema = z
  .object({
    step: z.record(z.string(), z.unknown()).openapi({
      example: { id: 'crm', type: 'http', config: { url: 'https://crm.example.com/contacts/{{ trigger.email }}' } },
    }),
    /** The run context the templates see: `trigger`, `steps`, `run`. */
    context: z.record(z.string(), z.unknown()).default({}),
    dryRun: z.boolean().default(false),
  })
  .openapi('StepTest');

const ResultSchema = z
  .object({
    config: z.unknown().optional(),
    output: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
  })
  .openapi('StepTestResult');

/**
 * `POST /v1/steps/test`: renders one connector step against a context and, unless `dryRun`, runs
 * it once outside any run. A failing step is an answer (`error`), not an error of the request.
 */
export function stepsTestRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/test',
      tags: ['steps'],
      summary: 'Render (and unless dryRun, execute once) one step outside a run',
      ...requires('runs:write', 'workflows:read'),
      request: { body: { content: { 'application/json': { schema: BodySchema } }, required: true } },
      responses: { 200: json(ResultSchema, 'The rendered config and the output or error'), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const checked = validateStep(body.step, registry);
      if (!checked.ok)
        throw new AppError({
          code: 'INVALID_STEP',
          message: `the step has ${checked.problems.length} problem(s)`,
          httpStatus: 400,
          details: checked.problems,
        });
      const result = await testStep(checked.step, body.context, {
        tenantId: c.var.tenantId,
        dryRun: body.dryRun,
        deps: apiConnectorDeps(deps),
        limits: runLimits(deps.config),
        rates: deps.stepRates,
      });
      return c.json(result, 200);
    },
  );
  return app;
}

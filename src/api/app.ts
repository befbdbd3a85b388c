import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { AppError, issueProblems } from '../shared/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { auditRoutes } from './audit.js';
import { settingsRoutes } from './settings.js';
import { codecRoutes } from './codec.js';
import { connectionsRoutes } from './connections.js';
import { connectorsRoutes } from './connectors.js';
import { deadLettersRoutes } from './dead-letters.js';
import { devEchoOn, devEchoRoutes } from './dev-echo.js';
import { docsRoutes } from './docs.js';
import { eventsRoutes } from './events.js';
import { healthRoutes } from './health.js';
import { auditTrail } from './middleware/audit.js';
import { authMiddleware } from './middleware/auth.js';
import { BEARER_SCHEME, BEARER_SECURITY } from './middleware/scopes.js';
import { jsonDepthLimit } from './middleware/json-depth.js';
import { redactPath } from './middleware/redact-path.js';
import { kafkaTopicsAdminRoutes } from './kafka-topics.js';
import { metricsRoutes } from './metrics.js';
import { errorHandler, problemResponse } from './problem.js';
import { runsRoutes } from './runs.js';
import { secretStoresRoutes } from './secret-stores.js';
import { secretsRoutes } from './secrets.js';
import { stepsTestRoutes } from './step-test-route.js';
import { triggersRoutes } from './triggers.js';
import { uiRoutes } from './ui/routes.js';
import { approvalLinkRoutes, approvalsRoutes } from './approvals.js';
import { hookRoutes, webhookAdminRoutes } from './webhooks.js';
import { schemaRoutes, workflowsRoutes } from './workflows.js';

const tracer = trace.getTracer('mini-zaps-api');

/**
 * The HTTP API as a Hono app (served by `main/api.ts`, exercised in tests with `app.request()`).
 * Validation failures and every error become problem+json in one place.
 */
export function createApp(deps: ApiDeps, opts: { isDraining?: () => boolean } = {}) {
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const errors = issueProblems(result.error.issues);
      return problemResponse(
        c,
        new AppError({ code: 'INVALID_REQUEST', message: 'the request is invalid', httpStatus: 400, details: errors }),
      );
    },
  });

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 100) || randomUUID();
    c.set('requestId', requestId);
    c.set('logger', deps.logger.child({ requestId }));
    c.header('x-request-id', requestId);
    const started = performance.now();
    // One span per request; the Temporal client interceptor carries it into the run it starts.
    await tracer.startActiveSpan(`${c.req.method} ${redactPath(c.req.path)}`, async (span) => {
      try {
        await next();
      } finally {
        span.updateName(`${c.req.method} ${c.req.routePath}`);
        span.setAttributes({
          'http.method': c.req.method,
          'http.route': c.req.routePath,
          'http.status_code': c.res.status,
          'request.id': requestId,
        });
        if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    });
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.httpRequestSeconds.observe(
      { method: c.req.method, route: c.req.routePath, status: String(c.res.status) },
      seconds,
    );
    c.var.logger.info(
      { method: c.req.method, path: redactPath(c.req.path), status: c.res.status, ms: Math.round(seconds * 1000) },
      'request',
    );
  });
  const tooLarge = (c: Context) =>
    problemResponse(
      c,
      new AppError({
        code: 'BODY_TOO_LARGE',
        message: `the body is larger than ${deps.config.API_BODY_LIMIT_BYTES} bytes`,
        httpStatus: 413,
      }),
    );
  const countedLimit = bodyLimit({ maxSize: deps.config.API_BODY_LIMIT_BYTES, onError: tooLarge });
  app.use('*', (c, next) => {
    // A declared length is checked as is, which keeps the server's direct body read; bodies of
    // unknown length are counted as they stream. Bodies of reads are never read.
    if (['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined)
      return Number(length) > deps.config.API_BODY_LIMIT_BYTES ? Promise.resolve(tooLarge(c)) : next();
    return countedLimit(c, next);
  });

  if (deps.rateLimits) app.use('*', deps.rateLimits.byIp);
  app.use('*', authMiddleware(deps.config));
  if (deps.rateLimits) app.use('*', deps.rateLimits.byTenant);
  // After the rate limit: a flood of refused calls writes no events.
  app.use('*', auditTrail(deps.audit.record));
  // A webhook reads its body once its token is known (see hookRoutes).
  app.use(
    '*',
    jsonDepthLimit(deps.config.API_JSON_MAX_DEPTH, deps.config.API_BODY_TIMEOUT_MS, (path) =>
      path.startsWith('/hooks/'),
    ),
  );

  const onError = errorHandler(deps.logger);
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const code = err.status === 400 ? 'MALFORMED_REQUEST' : `HTTP_${err.status}`;
      return problemResponse(
        c,
        new AppError({ code, message: err.message || 'the request could not be read', httpStatus: err.status }),
      );
    }
    return onError(err, c);
  });
  app.notFound((c) =>
    problemResponse(
      c,
      new AppError({
        code: 'ROUTE_NOT_FOUND',
        message: `no route for ${c.req.method} ${redactPath(c.req.path)}`,
        httpStatus: 404,
      }),
    ),
  );

  app.route('/', healthRoutes(deps, opts.isDraining ?? (() => false)));
  app.route('/', metricsRoutes(deps));
  if (devEchoOn(deps.config)) app.route('/', devEchoRoutes());
  app.route('/v1/workflows', workflowsRoutes(deps));
  app.route('/v1/workflows', webhookAdminRoutes(deps));
  app.route('/hooks', hookRoutes(deps));
  app.route('/approvals', approvalLinkRoutes(deps));
  app.route(
    '/codec',
    codecRoutes({ ring: deps.payloadRing, claims: deps.claims }, new URL(deps.config.TEMPORAL_UI_URL).origin),
  );
  app.route('/v1/schema', schemaRoutes());
  app.route('/v1', runsRoutes(deps));
  app.route('/v1', eventsRoutes(deps));
  app.route('/v1', triggersRoutes(deps));
  app.route('/v1/dead-letters', deadLettersRoutes(deps));
  app.route('/v1/secrets', secretsRoutes(deps));
  app.route('/v1/secret-stores', secretStoresRoutes(deps));
  app.route('/v1/connections', connectionsRoutes(deps));
  app.route('/v1/connectors', connectorsRoutes());
  app.route('/v1/steps', stepsTestRoutes(deps));
  app.route('/v1/admin', kafkaTopicsAdminRoutes(deps));
  app.route('/v1', auditRoutes(deps));
  app.route('/v1', settingsRoutes(deps));
  app.route('/v1', approvalsRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, BEARER_SECURITY);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Mini-Zaps API', version: '1.0.0', description: 'Durable workflow automation on Temporal' },
  });
  app.route('/', docsRoutes());
  app.route('/', uiRoutes(deps.config));
  return app;
}

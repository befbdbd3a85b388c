import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from './env.js';

/** How long one answer of PostgreSQL and Temporal stands for: probes and floods cost one check a second. */
export const READINESS_CACHE_MS = 1_000;

/** `/healthz`: the process is alive. `/readyz`: PostgreSQL and Temporal answer, so traffic may come. */
export function healthRoutes(deps: ApiDeps, isDraining: () => boolean) {
  const app = new Hono<ApiEnv>();
  const checks = cached(READINESS_CACHE_MS, () => dependencyChecks(deps));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const { database, temporal } = await checks();
    // Draining is read fresh: a stopping process must fail readiness at once.
    const ready = !isDraining() && database === 'ok' && temporal === 'ok';
    return c.json(
      { status: ready ? 'ready' : 'not ready', draining: isDraining(), checks: { database, temporal } },
      ready ? 200 : 503,
    );
  });
  return app;
}

async function dependencyChecks(deps: ApiDeps) {
  const [database, temporal] = await Promise.all([
    deps.pool.query('SELECT 1').then(
      () => 'ok',
      () => 'unavailable',
    ),
    deps.temporal
      .withDeadline(Date.now() + 2_000, () => deps.temporal.workflowService.getSystemInfo({}))
      .then(
        () => 'ok',
        () => 'unavailable',
      ),
  ]);
  return { database, temporal };
}

/** `load`, called at most once per `ms`; callers arriving while it runs share its answer. */
export function cached<T>(ms: number, load: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= ms) last = { at: now, value: load() };
    return last.value;
  };
}

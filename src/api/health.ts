import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from './env.js';

/** `/healthz`: the process is alive. `/readyz`: PostgreSQL and Temporal answer, so traffic may come. */
export function healthRoutes(deps: ApiDeps, isDraining: () => boolean) {
  const app = new Hono<ApiEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [database, temporal] = await Promise.all([
      deps.pool.query('SELECT 1').then(() => 'ok', () => 'unavailable'),
      deps.temporal.withDeadline(Date.now() + 2_000, () => deps.temporal.workflowService.getSystemInfo({})).then(() => 'ok', () => 'unavailable'),
    ]);
    const ready = !isDraining() && database === 'ok' && temporal === 'ok';
    return c.json({ status: ready ? 'ready' : 'not ready', draining: isDraining(), checks: { database, temporal } }, ready ? 200 : 503);
  });
  return app;
}

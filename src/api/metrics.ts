import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from './env.js';
import { cached, READINESS_CACHE_MS } from './health.js';

/** `/metrics`: Prometheus text, with the task queue's backlog read from Temporal at scrape time. */
export function metricsRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  // Scrapes (and floods) reach Temporal at most once a second.
  const refreshBacklog = cached(READINESS_CACHE_MS, () => updateBacklog(deps));
  app.get('/metrics', async (c) => {
    await refreshBacklog();
    return c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType });
  });
  return app;
}

async function updateBacklog(deps: ApiDeps): Promise<void> {
  const taskTypes = { workflow: 1, activity: 2 } as const;
  await Promise.all(
    Object.entries(taskTypes).map(async ([name, taskQueueType]) => {
      try {
        const res = await deps.temporal.withDeadline(Date.now() + 2_000, () =>
          deps.temporal.workflowService.describeTaskQueue({
            namespace: deps.config.TEMPORAL_NAMESPACE,
            taskQueue: { name: deps.config.TEMPORAL_TASK_QUEUE },
            taskQueueType,
            reportStats: true,
          }),
        );
        deps.metrics.backlog.set({ task_type: name }, Number(res.stats?.approximateBacklogCount ?? 0));
      } catch {
        // Temporal unreachable: keep the last value; /readyz says so.
      }
    }),
  );
}

import { serve } from '@hono/node-server';
import type { Config } from '../shared/config.js';
import { createApp } from './app.js';
import type { ApiDeps } from './env.js';

/** Serves the API over HTTP; `stop()` fails readiness, stops accepting, drains and closes. */
export async function startApi(deps: ApiDeps & { config: Pick<Config, 'API_HOST' | 'API_PORT'> }) {
  let draining = false;
  const app = createApp(deps, { isDraining: () => draining });
  const bodyMs = deps.config.API_BODY_TIMEOUT_MS;
  // Node's own bounds, behind the API's: headers within 30 s at most, the whole request a little
  // after the body's deadline (the API answers that with problem+json first; Node with a bare 408).
  const serverOptions = { headersTimeout: Math.min(30_000, bodyMs), requestTimeout: bodyMs + 5_000 };
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch: app.fetch, hostname: deps.config.API_HOST, port: deps.config.API_PORT, serverOptions },
      () => resolve(s),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : deps.config.API_PORT;
  const url = `http://${deps.config.API_HOST}:${port}`;
  deps.logger.info({ url }, 'API listening');
  return {
    url,
    async stop() {
      draining = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      deps.logger.info('API stopped');
    },
  };
}

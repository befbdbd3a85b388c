import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';
import type { ApiEnv } from './env.js';
import { staticAssets } from './ui/static.js';

const ASSETS = '/docs/assets';

/**
 * `/docs`: Swagger UI over `/openapi.json`, its CSS and JS served from the `swagger-ui-dist`
 * package by this API, so the page works without internet access. The online validator badge is
 * off: it would send the document's address to a public host.
 */
export function docsRoutes() {
  const app = new Hono<ApiEnv>();
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files = ['swagger-ui.css', 'swagger-ui-bundle.js'];
  const assets = staticAssets(Object.fromEntries(files.map((f) => [f, join(dist, f)])));
  // @hono/swagger-ui names its assets `<baseUrl>/swagger-ui-dist/<file>`.
  app.get('/docs', swaggerUI({ url: '/openapi.json', baseUrl: ASSETS, validatorUrl: 'none', title: 'Mini-Zaps API' }));
  app.get(`${ASSETS}/swagger-ui-dist/:file`, (c) => assets.serve(c, c.req.param('file')) ?? c.notFound());
  return app;
}

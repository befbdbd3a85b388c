import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { ApiEnv } from '../env.js';
import { loginEnabled, loginRoutes, type LoginConfig } from './login.js';
import { shell } from './shell.js';
import { staticAssets } from './static.js';

const ASSET_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

/** Everything the console's page may load: this API, nothing else. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The console's files: every file of `assets/`, fixed when the API starts. */
export function consoleAssets() {
  return staticAssets(Object.fromEntries(readdirSync(ASSET_DIR).map((name) => [name, `${ASSET_DIR}${name}`])));
}

/**
 * `/ui`: the web console, a page and its static scripts. They carry no data, so they load without
 * a token; the page asks for one (pasted, or from the OIDC sign-in of `login.ts` when configured)
 * and calls `/v1` with it, where the usual auth and scopes apply.
 */
export function uiRoutes(config: LoginConfig) {
  const app = new Hono<ApiEnv>();
  const assets = consoleAssets();
  const signIn = loginEnabled(config);
  app.get('/ui', (c) => {
    c.header('content-security-policy', CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-cache');
    return c.html(shell({ signIn }));
  });
  app.get('/ui/assets/:file', (c) => assets.serve(c, c.req.param('file')) ?? c.notFound());
  app.route('/', loginRoutes(config));
  return app;
}

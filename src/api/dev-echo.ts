import { Hono } from 'hono';
import type { Config } from '../shared/config.js';
import type { ApiEnv } from './env.js';

export const DEV_ECHO_PATH = '/dev/echo';

/** Whether this API serves `POST /dev/echo`: only when asked (npm run dev) and never in production. */
export const devEchoOn = (config: Partial<Pick<Config, 'API_DEV_ECHO' | 'NODE_ENV'>>): boolean =>
  config.API_DEV_ECHO === true && config.NODE_ENV !== 'production';

/**
 * `POST /dev/echo`: the outside service the examples call under `npm run dev` (a CRM, a mailer),
 * so that they show their own happy path with nothing else running. It answers what it was sent,
 * JSON as JSON, and stores nothing; no token (an http step sends none), no OpenAPI entry.
 */
export function devEchoRoutes() {
  const app = new Hono<ApiEnv>();
  app.post(DEV_ECHO_PATH, async (c) => {
    const text = await c.req.text();
    let body: unknown = text;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: echoed as text
    }
    return c.json({ echo: body, method: c.req.method, contentType: c.req.header('content-type') ?? null });
  });
  return app;
}

import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { serve } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { skipUnlessCi } from './skip.js';

/** Debian's `chromium` package (installed by .ci/run). */
export const CHROMIUM = '/usr/bin/chromium';

// Headless, and quiet: no background traffic of the browser's own, so a page's requests are all it sends.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why browser tests cannot run on this machine, or false when they can (a test's `skip`); never on CI, where they fail instead. */
export function chromiumMissing(): string | false {
  return skipUnlessCi(existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`cannot start Chromium: there is none at ${CHROMIUM}`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** Serves a fetch handler (the API app) over real HTTP on loopback. */
export async function serveHttp(
  fetch: (req: Request) => Response | Promise<Response>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from './ports.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** When the whole request had arrived (ms since the epoch). */
  at: number;
}

type Reply = {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** The answer waits (after `delayMs`) until this settles: a gate the test opens once it is ready. */
  until?: Promise<unknown>;
};
type Script = (req: ReceivedRequest, countForPath: number) => Reply;

/**
 * A real HTTP server on loopback that records every request and answers from a per-path script,
 * e.g. 500 twice then 200. Used as the far side of http steps. A path nobody scripted answers 404,
 * so a step sent to the wrong URL fails instead of passing unnoticed.
 */
export async function startReceiver() {
  const scripts = new Map<string, Script>();
  const abortHandlers = new Map<string, () => void>();
  const requests: ReceivedRequest[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const received = {
        method: req.method ?? 'GET',
        path: url.pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(received);
      const open = (inFlight.get(received.path) ?? 0) + 1;
      inFlight.set(received.path, open);
      maxInFlight.set(received.path, Math.max(open, maxInFlight.get(received.path) ?? 0));
      res.on('close', () => inFlight.set(received.path, (inFlight.get(received.path) ?? 1) - 1));
      const count = requests.filter((r) => r.path === received.path).length;
      const script: Script =
        scripts.get(url.pathname) ?? (() => ({ status: 404, body: { error: `nothing scripted for ${url.pathname}` } }));
      const reply = script(received, count);
      const send = () => {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      };
      if (!reply.delayMs && !reply.until) return send();
      let abandoned = false;
      const answer = () => void (abandoned || send());
      const timer = setTimeout(() => void Promise.resolve(reply.until).then(answer, answer), reply.delayMs ?? 0);
      res.on('close', () => {
        if (res.writableFinished) return;
        abandoned = true;
        clearTimeout(timer);
        abortHandlers.get(received.path)?.();
      });
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on(path: string, script: Script) {
      scripts.set(path, script);
    },
    /** Answers 200 `{ ok: true }` on each of these paths. */
    accept(...paths: string[]) {
      for (const path of paths) scripts.set(path, () => ({ status: 200, body: { ok: true } }));
    },
    /** Called when the client gives up on a delayed answer (e.g. a cancelled step). */
    onAbort(path: string, handler: () => void) {
      abortHandlers.set(path, handler);
    },
    requestsTo: (path: string) => requests.filter((r) => r.path === path),
    /** The requests to `path` open now (arrived, not yet answered). */
    inFlight: (path: string) => inFlight.get(path) ?? 0,
    /** The most requests to `path` that were open at the same time (arrived, not yet answered). */
    maxInFlight: (path: string) => maxInFlight.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** The most of these times (ms) that fall within any window of `windowMs`: how fast requests came at their fastest. */
export function mostWithin(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * A receiver script that holds every answer until `open` requests to `path` are open at once
 * (then answers each after 300 ms): a limit of `open` is seen used, however slowly runs start on
 * a loaded machine, and a run let through above it would be open at the same time and counted.
 */
export function heldUntilOpen(receiver: Receiver, path: string, open: number) {
  let reached = () => {};
  const full = new Promise<void>((resolve) => (reached = resolve));
  return () => {
    if (receiver.inFlight(path) >= open) reached();
    return { status: 200, body: { ok: true }, delayMs: 300, until: full };
  };
}

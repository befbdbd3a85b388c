import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from './ports.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number };
type Script = (req: ReceivedRequest, countForPath: number) => Reply;

/**
 * A real HTTP server on loopback that records every request and answers from a per-path script,
 * e.g. 500 twice then 200. Used as the far side of http steps.
 */
export async function startReceiver() {
  const scripts = new Map<string, Script>();
  const abortHandlers = new Map<string, () => void>();
  const requests: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const received = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const count = requests.filter((r) => r.path === received.path).length;
      const script: Script = scripts.get(url.pathname) ?? (() => ({ status: 200, body: { ok: true } }));
      const reply = script(received, count);
      const send = () => {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      };
      if (!reply.delayMs) return send();
      const timer = setTimeout(send, reply.delayMs);
      res.on('close', () => {
        if (res.writableFinished) return;
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
    /** Called when the client gives up on a delayed answer (e.g. a cancelled step). */
    onAbort(path: string, handler: () => void) {
      abortHandlers.set(path, handler);
    },
    requestsTo: (path: string) => requests.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

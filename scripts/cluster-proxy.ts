import { request, createServer, type Server } from 'node:http';
import { connect as connectTcp, createServer as createNetServer, type Socket } from 'node:net';

/**
 * The load balancer in front of the API replicas: round robin, and a request whose backend
 * refuses the connection (a replica that died) goes to the next one, as a real balancer's health
 * checks would arrange. It adds X-Forwarded-For, which the APIs trust (TRUST_PROXY=true).
 */
export function startProxy(backends: readonly string[], port: number, host = '127.0.0.1'): Promise<Server> {
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = (tries: number): void => {
        const target = new URL(backends[next++ % backends.length] ?? '');
        const headers = {
          ...req.headers,
          'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
          host: target.host,
        };
        const upstream = request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          // Only a refused connection is safe to send elsewhere: the request never arrived.
          if (err.code === 'ECONNREFUSED' && tries < backends.length) return forward(tries + 1);
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/problem+json' });
          res.end(
            JSON.stringify({ type: 'about:blank', title: 'Bad gateway', status: 502, code: 'UPSTREAM_UNAVAILABLE' }),
          );
        });
        upstream.end(body);
      };
      forward(1);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * The load balancer in front of the Temporal frontends (gRPC, so at the TCP level): each client
 * connection goes to the next frontend in turn, and one that refuses the connection (a frontend
 * that died) is passed over. A connection to a frontend that dies is cut, and the client's
 * reconnection lands on a live one.
 */
export async function startTcpProxy(
  backends: readonly string[],
  port: number,
  host = '127.0.0.1',
): Promise<{ close(): Promise<void> }> {
  let next = 0;
  const open = new Set<Socket>();
  const server = createNetServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.pause();
    const connect = (tries: number): void => {
      const [backendHost, backendPort] = (backends[next++ % backends.length] ?? '').split(':');
      const upstream = connectTcp({ host: backendHost, port: Number(backendPort) });
      const refused = (err: NodeJS.ErrnoException): void => {
        if (err.code === 'ECONNREFUSED' && tries < backends.length) return connect(tries + 1);
        client.destroy();
      };
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        upstream.on('error', () => client.destroy());
        upstream.once('close', () => client.destroy());
        client.once('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    client.on('error', () => undefined);
    connect(1);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ConnectorInput, ConnectorResult } from '../connector.js';
import { createHttpExecute } from './activity.js';
import { createHttpActivity } from './definition.js';
import { MAX_RESPONSE_BYTES } from './body.js';
import { HttpConfigSchema } from './schema.js';

const http = createHttpActivity({ allowlist: '127.0.0.1' });
const quiet = new DefaultLogger('ERROR', () => undefined);
const run = (url: string, startToCloseTimeoutMs = 10_000) =>
  new MockActivityEnvironment({ startToCloseTimeoutMs }, { logger: quiet }).run<
    [ConnectorInput],
    ConnectorResult,
    typeof http
  >(http, {
    config: { url },
    runId: 'run-1',
    workflowId: 'wf-1',
    tenantId: 't',
    stepId: 'call',
    idempotencyKey: 'run-1:call',
  });

const MIB = Buffer.alloc(1024 * 1024, 'a');

/** Writes `chunk` whenever the socket drains, until the connection closes; counts what it wrote. */
function endless(res: ServerResponse, chunk: Buffer, everyMs: number, written: { bytes: number }) {
  let open = true;
  res.once('close', () => (open = false));
  const tick = () => {
    if (!open) return;
    written.bytes += chunk.byteLength;
    if (res.write(chunk)) setTimeout(tick, everyMs).unref();
    else res.once('drain', tick);
  };
  tick();
}

describe('bounded responses', () => {
  let server: Server;
  let base: string;
  const endlessWritten = { bytes: 0 };
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(MAX_RESPONSE_BYTES + 1) });
        return res.write('x');
      }
      if (req.url === '/endless') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return endless(res, MIB, 0, endlessWritten);
      }
      if (req.url === '/drip') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return endless(res, Buffer.from('.'), 100, { bytes: 0 });
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(Buffer.alloc(MAX_RESPONSE_BYTES, 'b'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const fails = async (promise: Promise<unknown>, code: string, nonRetryable: boolean) => {
    await assert.rejects(
      promise,
      (err: unknown) => err instanceof ApplicationFailure && err.type === code && err.nonRetryable === nonRetryable,
    );
  };

  it('a declared Content-Length above the cap fails non-retryable with HTTP_RESPONSE_TOO_LARGE before reading the body', async () => {
    await fails(run(`${base}/declared`), 'HTTP_RESPONSE_TOO_LARGE', true);
  });

  it('an endless body fails with HTTP_RESPONSE_TOO_LARGE once the cap is passed, long before the step timeout', async () => {
    const started = Date.now();
    await fails(run(`${base}/endless`, 60_000), 'HTTP_RESPONSE_TOO_LARGE', true);
    assert.ok(Date.now() - started < 30_000);
    // Only socket buffers' worth beyond the cap was ever sent, not the stream the server would go on writing.
    assert.ok(
      endlessWritten.bytes < MAX_RESPONSE_BYTES + 8 * MIB.byteLength,
      `server wrote ${endlessWritten.bytes} bytes`,
    );
  });

  it('a body of exactly the cap is read whole by the connector', async () => {
    const ctx = {
      input: { config: {}, runId: 'r', workflowId: 'w', tenantId: 't', stepId: 's', idempotencyKey: 'r:s' },
      signal: AbortSignal.timeout(10_000),
      attempt: 1,
      secrets: [],
    };
    const output = await createHttpExecute('127.0.0.1')(HttpConfigSchema.parse({ url: `${base}/exact` }), ctx);
    assert.equal(typeof output.body === 'string' ? output.body.length : -1, MAX_RESPONSE_BYTES);
  });

  it('a body that drips in is cut off by the step timeout with a retryable HTTP_TIMEOUT', async () => {
    const started = Date.now();
    await fails(run(`${base}/drip`, 1_000), 'HTTP_TIMEOUT', false);
    const took = Date.now() - started;
    // Not before its 1 s timeout; well before ten of them (a loaded machine is slow to answer).
    assert.ok(took >= 900 && took < 10_000, `took ${took} ms`);
  });
});

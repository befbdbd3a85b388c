import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { portsInUse } from './ports.js';

describe('ports dev is about to use', () => {
  let server: Server | undefined;
  after(() => server?.close());

  it('are named with the pid and command of the process holding one, on one line', async () => {
    server = createServer();
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const line = await portsInUse([{ host: '127.0.0.1', port, what: 'the API (API_PORT)' }]);
    assert.ok(line?.startsWith(`port ${port} for the API (API_PORT) is in use by pid ${process.pid} (`), line);
    assert.ok(line?.includes(process.execPath), line);
    assert.ok(!line?.includes('\n'));
  });

  it('give nothing when every port is free', async () => {
    assert.equal(await portsInUse([{ host: '127.0.0.1', port: 0, what: 'any' }]), undefined);
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const address = probe.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((r) => probe.close(r));
    assert.equal(await portsInUse([{ host: '127.0.0.1', port, what: 'the API (API_PORT)' }]), undefined);
  });
});

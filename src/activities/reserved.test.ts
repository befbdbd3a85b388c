import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { fetch } from 'undici';
import { loadConfig } from '../shared/config.js';
import { createHostGuard } from './host-guard.js';
import { createGuard } from './http/guard.js';
import { createReserved, reservedEndpoints } from './reserved.js';

const db = { host: '127.0.0.1', port: 5432, what: 'db' };

describe('reserved endpoints: the engine services no connector reaches', () => {
  it('derives every class from the configuration: database, Temporal frontend and UI, Redis, metrics, the API', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db.internal:6543/minizaps',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_UI_URL: 'http://temporal-ui.internal:8080',
      REDIS_URL: 'redis://redis.internal',
      TEMPORAL_SDK_METRICS_ADDRESS: '0.0.0.0:9464',
      API_HOST: '0.0.0.0',
      API_PORT: '3000',
    });
    assert.deepEqual(
      reservedEndpoints(config).map((e) => `${e.host}:${e.port}`),
      [
        'db.internal:6543',
        'temporal.internal:7233',
        'temporal-ui.internal:8080',
        'redis.internal:6379',
        '0.0.0.0:9464',
        '127.0.0.1:9465',
        '127.0.0.1:9466',
        '0.0.0.0:3000',
      ],
    );
    const embedded = reservedEndpoints(loadConfig({ EMBEDDED_POSTGRES_PORT: '54329' }));
    assert.ok(embedded.some((e) => e.host === '127.0.0.1' && e.port === 54329));
  });

  it('reserves by address and port: another port on the same address stays reachable', async () => {
    const reserved = createReserved([db]);
    assert.equal((await reserved.match('127.0.0.1', 5432))?.what, 'db');
    assert.equal(await reserved.match('127.0.0.1', 5433), undefined);
    assert.equal(await reserved.match('10.1.2.3', 5432), undefined);
  });

  it('a service on this machine is reserved on every address of this machine, in every spelling', async () => {
    const reserved = createReserved([db]);
    const own = Object.values(networkInterfaces())
      .flat()
      .map((a) => a?.address)
      .filter((a): a is string => a !== undefined);
    for (const address of ['127.0.0.2', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1', ...own])
      assert.equal((await reserved.match(address, 5432))?.what, 'db', address);
  });

  it('names are compared after resolution, on the reserved side too', async () => {
    const reserved = createReserved([{ host: 'localhost', port: 7233, what: 'temporal' }]);
    assert.equal((await reserved.match('127.0.0.1', 7233))?.what, 'temporal');
    const remote = createReserved([{ host: '10.9.8.7', port: 5432, what: 'remote db' }]);
    assert.equal((await remote.match('::ffff:10.9.8.7', 5432))?.what, 'remote db');
    assert.equal(await remote.match('10.9.8.6', 5432), undefined);
  });

  it('the guards refuse a reserved endpoint with HOST_RESERVED even when HTTP_ALLOWLIST allows it', async () => {
    const reserved = createReserved([db]);
    await assert.rejects(createHostGuard('127.0.0.1, localhost', reserved).resolve('localhost', 5432, 'SQL'), {
      code: 'HOST_RESERVED',
    });
    await assert.rejects(createHostGuard('127.0.0.0/8', reserved).resolve('127.0.0.1', 5432, 'SQL'), {
      code: 'HOST_RESERVED',
    });
    assert.equal(await createHostGuard('127.0.0.1', reserved).resolve('127.0.0.1', 5433, 'SQL'), '127.0.0.1');
    const guard = createGuard('127.0.0.1', reserved);
    await assert.rejects(fetch('http://127.0.0.1:5432/', { dispatcher: guard.dispatcher }), (err: Error) =>
      /HOST_RESERVED|one of the engine's own services/.test(`${err.message} ${String(err.cause)}`),
    );
    await guard.dispatcher.close();
  });

  it('the API alone is opened by an allow-list entry naming its exact host:port (dev), never by a bare host or CIDR', async () => {
    const api = { host: '127.0.0.1', port: 3000, what: 'the API', openWhenNamed: true };
    const reserved = createReserved([api, { ...db, port: 3001 }]);
    assert.equal(await createHostGuard('127.0.0.1:3000', reserved).resolve('127.0.0.1', 3000, 'X'), '127.0.0.1');
    await assert.rejects(createHostGuard('localhost', reserved).resolve('localhost', 3000, 'X'), {
      code: 'HOST_RESERVED',
    });
    for (const allowlist of ['127.0.0.1', '127.0.0.0/8'])
      await assert.rejects(createHostGuard(allowlist, reserved).resolve('127.0.0.1', 3000, 'X'), {
        code: 'HOST_RESERVED',
      });
    await assert.rejects(createHostGuard('127.0.0.1:3001', reserved).resolve('127.0.0.1', 3001, 'X'), {
      code: 'HOST_RESERVED',
    });
  });
});

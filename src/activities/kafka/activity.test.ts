import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectorRunner, failureOf } from '../../../test/helpers/connectors.js';
import { kafkaSkipReason, startKafka, type KafkaBroker } from '../../../test/helpers/kafka.js';
import { freePort } from '../../../test/helpers/ports.js';
import { createReserved } from '../reserved.js';
import { kafkaConnection } from './connection.js';
import { kafkaConnector } from './definition.js';

describe('the kafka connector against a real broker', { skip: kafkaSkipReason() }, () => {
  let broker: KafkaBroker;
  let produce: ReturnType<typeof connectorRunner>;
  // One of the engine's own services: the broker's second listener advertises it as the broker.
  let engine: Server;
  let engineConnections = 0;
  before(async () => {
    engine = createServer((socket) => {
      engineConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', resolve));
    const enginePort = (engine.address() as AddressInfo).port;
    broker = await startKafka({ advertise: `127.0.0.1:${enginePort}` });
    await broker.createTopic('t.signups');
    produce = connectorRunner(kafkaConnector, {
      reserved: createReserved([{ host: '127.0.0.1', port: enginePort, what: 'the engine database' }]),
      connections: {
        events: { type: 'kafka', config: { brokers: broker.brokers.split(',') } },
        down: { type: 'kafka', config: { brokers: [`127.0.0.1:${await freePort()}`] } },
        advertised: { type: 'kafka', config: { brokers: [broker.externalBrokers ?? ''] } },
      },
    });
  });
  after(async () => {
    await broker?.stop();
    engine?.close();
  });

  it('refuses a broker the cluster advertises on a reserved address (HOST_RESERVED), though its bootstrap broker passed', async () => {
    const err = await failureOf(
      produce({ topic: 't.signups', value: 'x' }, { connection: 'advertised', timeoutMs: 20_000 }),
    );
    assert.equal(err.type, 'HOST_RESERVED', err.message);
    assert.equal(err.nonRetryable, true);
    assert.equal(engineConnections, 0, 'nothing connected to the reserved address');
  });

  it('produces key, JSON value and headers with the idempotency key, and answers topic, partition and offset', async () => {
    const { output } = await produce(
      { topic: 't.signups', key: 'ann@example.com', value: { email: 'ann@example.com' }, headers: { source: 'test' } },
      { connection: 'events', timeoutMs: 20_000 },
    );
    assert.deepEqual(output, { topic: 't.signups', partition: 0, offset: '0' });
    const [message] = await broker.readAll('t.signups', 1);
    assert.equal(message?.value, '{"email":"ann@example.com"}');
    assert.deepEqual(message?.headers, { 'idempotency-key': 'run-1:step', source: 'test' });
  });

  it('a cluster that is down is retried (KAFKA_UNAVAILABLE); the connection check is a metadata request', async () => {
    const err = await failureOf(produce({ topic: 't.signups', value: 'x' }, { connection: 'down', timeoutMs: 20_000 }));
    assert.equal(err.nonRetryable, false);
    assert.ok(['KAFKA_UNAVAILABLE', 'KAFKA_TIMEOUT'].includes(err.type ?? ''), String(err.type));
    const details = await kafkaConnection.erased.test(
      { brokers: broker.brokers.split(',') },
      { signal: AbortSignal.timeout(20_000), deps: { allowlist: '127.0.0.1' } },
    );
    assert.equal(details.brokers, 1);
  });
});

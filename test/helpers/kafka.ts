import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type IHeaders, type Message } from 'kafkajs';
import { keepOutput, START_PATIENCE_MS, untilStarted } from './patience.js';
import { freePort, waitFor } from './ports.js';
import { skipUnlessCi } from './skip.js';

/** Where `scripts/ensure.mjs` copies the broker's jars (Maven Central, see scripts/kafka/pom.xml). */
const LIBS = fileURLToPath(new URL('../../.tools/kafka/libs', import.meta.url));

/**
 * Why a Kafka broker cannot run here, or undefined when it can: it needs Java 17+ and the broker's
 * jars, which `npm test` provisions with Maven when Java and Maven are on the machine.
 */
export function kafkaMissing(): string | undefined {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0)
    return 'needs Java 17+ on PATH to run the Apache Kafka broker (apt-get install openjdk-17-jre-headless)';
  const major = Number(/version "(\d+)/.exec(java.stderr)?.[1] ?? 0);
  if (major < 17) return `needs Java 17+ for Apache Kafka 4.1 (found Java ${major})`;
  if (!existsSync(LIBS) || !readdirSync(LIBS).some((f) => f.startsWith('kafka_2.13-')))
    return 'the Kafka broker jars are missing in .tools/kafka/libs (npm test provisions them with Maven: node scripts/ensure.mjs)';
  return undefined;
}

/** The Kafka tests' `skip`: why they cannot run here; never on CI, where they fail instead (test/helpers/skip.ts). */
export const kafkaSkipReason = (): string | false => skipUnlessCi(kafkaMissing());

const CLASSPATH = `${LIBS}/*`;

/** A second listener, whose clients are told the broker is at `advertised` (any host:port). */
interface External {
  port: number;
  advertised: string;
}

function serverProperties(dir: string, port: number, controllerPort: number, external?: External): string {
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`];
  const advertised = [`PLAINTEXT://127.0.0.1:${port}`];
  if (external) {
    listeners.push(`EXTERNAL://127.0.0.1:${external.port}`);
    advertised.push(`EXTERNAL://${external.advertised}`);
  }
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'num.partitions=1',
    '',
  ].join('\n');
}

/**
 * A real single-node Apache Kafka 4.1 broker (KRaft, controller and broker in one JVM) on loopback
 * ports, its storage formatted afresh in a temporary directory. `stop()` kills it and removes it.
 * With `advertise`, a second listener (`externalBrokers`) tells its clients the broker is there.
 */
export async function startKafka(opts: { advertise?: string } = {}) {
  const missing = kafkaMissing();
  if (missing) throw new Error(`cannot start a Kafka broker: ${missing}`);
  const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const external = opts.advertise ? { port: await freePort(), advertised: opts.advertise } : undefined;
  const properties = join(dir, 'server.properties');
  await writeFile(properties, serverProperties(dir, port, controllerPort, external));
  const format = spawnSync(
    'java',
    ['-cp', CLASSPATH, 'kafka.tools.StorageTool', 'format', '-t', '4L6g3nShT-eMCtK--X86sw', '-c', properties],
    { encoding: 'utf8', timeout: 2 * START_PATIENCE_MS },
  );
  if (format.status !== 0) throw new Error(`formatting the Kafka storage failed: ${format.stderr || format.stdout}`);

  const broker: ChildProcess = spawn(
    'java',
    ['-Xmx512m', '-XX:+UseSerialGC', '-cp', CLASSPATH, 'kafka.Kafka', properties],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const brokers = [`127.0.0.1:${port}`];
  const kafka = new Kafka({ clientId: 'mini-zaps-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  // Up once it lists topics and its group coordinator has loaded (a consumer that joins a group
  // before that crashes, and may not come back within a test's wait).
  const answers = async () => {
    await admin.connect();
    await admin.listTopics();
    await admin.describeGroups(['mini-zaps-ready']); // throws while the coordinator is loading
    return true;
  };
  // A JVM that formats its log and elects itself controller: more patience than the other servers.
  const output = keepOutput(broker);
  await untilStarted('the Kafka broker', answers, { child: broker, output, timeoutMs: 2 * START_PATIENCE_MS }).catch(
    async (err: unknown) => {
      broker.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw err;
    },
  );
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();

  return {
    brokers: brokers.join(','),
    /** The second listener's address, when started with `advertise`. */
    externalBrokers: external ? `127.0.0.1:${external.port}` : undefined,
    kafka,
    admin,
    async createTopic(topic: string, partitions = 1): Promise<void> {
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
    },
    /** Produces messages (values as given: strings and Buffers are sent as they are). */
    async produce(topic: string, messages: Message[]): Promise<void> {
      for (let i = 0; i < messages.length; i += 500)
        await producer.send({ topic, messages: messages.slice(i, i + 500), acks: -1 });
    },
    /** Every message of a topic from its start, read until `count` arrived (bounded by `timeoutMs`). */
    async readAll(
      topic: string,
      count: number,
      timeoutMs = 30_000,
    ): Promise<{ value: string | null; headers: Record<string, string> }[]> {
      await waitFor(
        `topic ${topic} to exist`,
        async () => ((await admin.listTopics()).includes(topic) ? true : undefined),
        timeoutMs,
      );
      const consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}` });
      const seen: { value: string | null; headers: Record<string, string> }[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) =>
            void seen.push({ value: message.value?.toString() ?? null, headers: headerStrings(message.headers) }),
        });
        await waitFor(
          `${count} messages on ${topic}`,
          async () => (seen.length >= count ? true : undefined),
          timeoutMs,
        );
      } finally {
        await consumer.disconnect();
      }
      return seen;
    },
    /** The committed offsets of a consumer group on a topic, by partition. */
    async committed(groupId: string, topic: string): Promise<Record<number, number>> {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Object.fromEntries((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    },
    async stop(): Promise<void> {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      if (broker.exitCode === null && broker.signalCode === null) {
        broker.kill('SIGKILL');
        await once(broker, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type KafkaBroker = Awaited<ReturnType<typeof startKafka>>;

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([k, v]) => [
      k,
      Array.isArray(v) ? v.map(String).join(',') : (v?.toString() ?? ''),
    ]),
  );
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';

const ComposeSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      ports: z.array(z.string()).optional(),
      environment: z.record(z.string(), z.unknown()).optional(),
      deploy: z.object({ replicas: z.number() }).partial().optional(),
    }),
  ),
  secrets: z.record(z.string(), z.object({ file: z.string() })),
});

// `merge: true` resolves the `<<:` anchors the file uses, as Docker Compose does.
const compose = ComposeSchema.parse(
  parse(readFileSync(join(import.meta.dirname, '..', '..', 'docker-compose.yml'), 'utf8'), { merge: true }),
);

test('docker-compose.yml describes the production topology: PostgreSQL, schema job, Temporal, its UI, API x2, worker x2, Redis, Kafka, Prometheus, Grafana', () => {
  for (const name of [
    'postgres',
    'temporal-schema',
    'temporal',
    'temporal-ui',
    'api',
    'worker',
    'triggers',
    'redis',
    'kafka',
    'prometheus',
    'grafana',
  ])
    assert.ok(compose.services[name], name);
  assert.equal(compose.services.api?.deploy?.replicas, 2);
  assert.equal(compose.services.worker?.deploy?.replicas, 2);
});

test('docker-compose.yml publishes nothing beyond the host loopback, and Temporal gRPC not at all', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name} publishes ${port}`);
  }
  assert.equal(compose.services.temporal?.ports, undefined);
});

test('docker-compose.yml takes every secret from a file, never from a literal in the environment', () => {
  assert.ok(Object.values(compose.secrets).every((s) => s.file.startsWith('./.secrets/')));
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (/SECRET|PASSWORD|KEYS|DATABASE_URL/.test(key) && !key.endsWith('_FILE'))
        assert.fail(`${name}: ${key}=${String(value)} is not read from a file`);
    }
  }
});

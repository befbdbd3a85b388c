import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { DEFAULT_RUN_LIMITS } from '../shared/run-limits.js';
import { definitionJsonSchema } from '../definitions/schema.js';
import { buildRunInput } from '../runs/run-input.js';
import { validateStep } from '../definitions/validate.js';
import { connectorCatalogue } from './catalogue.js';
import { defineConnector, type Connector } from './define-connector.js';
import { buildRegistry } from './registry-checks.js';
import { registry } from './registry.js';

const echo = (type: string): Connector =>
  defineConnector({
    type,
    description: 'answers its config',
    configSchema: z.strictObject({ say: z.string() }),
    defaults: { timeout: '5s', retry: { maxAttempts: 1 } },
    example: { config: { say: 'hi' } },
    create: () => async (config) => config,
  });

describe('the connector registry', () => {
  it('refuses a connector registered twice, one named like a built-in step, and one missing a part', () => {
    assert.throws(() => buildRegistry([echo('echo'), echo('echo')]), /connector 'echo' is registered twice/);
    assert.throws(() => buildRegistry([echo('delay')]), /takes the name of a built-in step type/);
    const { description: _d, ...noDescription } = echo('half');
    assert.throws(
      () => buildRegistry([{ ...noDescription, description: '' }]),
      /'half' is half-registered: it lacks description/,
    );
  });

  it('a run is stamped with the defaults of every registered connector, so the workflow needs no list of its own', () => {
    const input = buildRunInput(DEFAULT_RUN_LIMITS, {
      tenantId: 't',
      workflow: { id: 'w', version: 1, definition: { name: 'n', steps: [] } },
      payload: null,
      source: { type: 'api' },
    });
    assert.deepEqual(Object.keys(input.connectors ?? {}), registry.types);
    assert.deepEqual(input.connectors?.http, registry.get('http')?.defaults);
  });

  it('every connector example is a valid step, and the catalogue lists every type with its JSON Schema, defaults and connection', () => {
    const catalogue = connectorCatalogue();
    assert.deepEqual(
      catalogue.map((c) => c.type),
      ['http', 'webhook', 'email', 'sql', 'slack', 'kafka', 'code'],
    );
    for (const entry of catalogue) {
      const checked = validateStep(entry.example, registry);
      assert.ok(checked.ok, `${entry.type} example: ${JSON.stringify(checked)}`);
      assert.equal(entry.configSchema.type, 'object', entry.type);
      assert.ok(entry.description.length > 20);
      assert.ok(entry.defaults.timeout);
    }
    assert.equal(catalogue.find((c) => c.type === 'email')?.connection?.type, 'smtp');
    assert.equal(catalogue.find((c) => c.type === 'sql')?.connection?.required, true);
  });

  it('the published workflow JSON Schema carries each connector config schema', () => {
    const defs = definitionJsonSchema(registry).$defs;
    assert.ok(typeof defs === 'object' && defs !== null);
    for (const type of registry.types) assert.ok(type + 'Config' in defs, type);
  });

  it('validation checks a connector step config and connection against its connector', () => {
    const missing = validateStep(
      {
        id: 'm',
        type: 'email',
        config: { from: 'a@x.io', to: 'b@y.io', subject: 's', text: 't' },
      },
      registry,
    );
    assert.deepEqual(missing.ok ? [] : missing.problems.map((p) => p.pointer), ['/connection']);
    const bad = validateStep(
      { id: 'q', type: 'sql', connection: 'db', config: { query: 'SELECT 1', maxRows: 0 } },
      registry,
    );
    assert.deepEqual(bad.ok ? [] : bad.problems.map((p) => p.pointer), ['/config/maxRows']);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

const DEFINITION = `import { z } from 'zod';
import { defineConnector } from '../define-connector.js';
import { createEchoExecute } from './activity.js';

export const EchoConfigSchema = z.strictObject({ say: z.string().min(1), times: z.int().min(1).max(3).default(1) });

export const echoConnector = defineConnector({
  type: 'echo',
  description: 'Answers what it is told to say, as many times as asked.',
  configSchema: EchoConfigSchema,
  defaults: { timeout: '5s', retry: { maxAttempts: 2 } },
  example: { config: { say: 'hello {{ trigger.name }}' } },
  create: () => createEchoExecute(),
});
`;
const ACTIVITY = `import type { z } from 'zod';
import type { ExecuteContext } from '../connector-attempt.js';
import type { EchoConfigSchema } from './definition.js';

export function createEchoExecute() {
  return async (config: z.output<typeof EchoConfigSchema>, ctx: ExecuteContext) => ({ said: Array(config.times).fill(config.say), key: ctx.input.idempotencyKey });
}
`;
// Everything the new connector is checked through, from the copy of the tree it was added to.
const CHECK = `import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { connectorCatalogue } from './src/activities/catalogue.js';
import { registry } from './src/activities/registry.js';
import { testStep } from './src/activities/step-test-run.js';
import { DEFAULT_EXPRESSION_LIMITS, DEFAULT_RUN_LIMITS } from './src/shared/run-limits.js';
import { validateDefinition } from './src/definitions/validate.js';
import { buildRunInput } from './src/runs/run-input.js';

const step = { id: 'say', type: 'echo', config: { say: 'hi {{ trigger.name }}', times: 2 } };
const valid = validateDefinition({ name: 'echo', steps: [step] }, registry);
const invalid = validateDefinition({ name: 'echo', steps: [{ id: 'say', type: 'echo', config: { times: 9 } }] }, registry);
const runInput = buildRunInput(DEFAULT_RUN_LIMITS, { tenantId: 't', workflow: { id: 'w', version: 1, definition: { name: 'echo', steps: [step] } }, payload: null, source: { type: 'api' } });
const entry = connectorCatalogue().find((c) => c.type === 'echo');
const tested = await testStep(step, { trigger: { name: 'Ann' } }, { tenantId: 't', dryRun: false, deps: { allowlist: '' }, limits: DEFAULT_EXPRESSION_LIMITS });
const activity = registry.activities({ allowlist: '' }).echo;
const input = { config: { say: 'from a run' }, runId: 'r', workflowId: 'w', tenantId: 't', stepId: 'say', idempotencyKey: 'r:say' };
const result = await new MockActivityEnvironment({ startToCloseTimeoutMs: 5000 }, { logger: new DefaultLogger('ERROR', () => undefined) }).run(activity, input);
console.log(JSON.stringify({
  valid: valid.ok,
  problems: valid.ok ? [] : valid.problems,
  invalid: invalid.ok ? [] : invalid.problems.map((p) => p.pointer),
  catalogue: entry && { configSchema: entry.configSchema.type, defaults: entry.defaults, example: entry.example },
  workflow: { defaults: runInput.connectors?.echo },
  tested,
  activity: result,
}));
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mini-zaps-kit-'));
  await cp(join(root, 'src'), join(dir, 'src'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) await cp(join(root, f), join(dir, f));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
});
after(() => rm(dir, { recursive: true, force: true }));

it('a connector added as one folder and one registry entry is validated, catalogued and executed, with no other edit: its runs carry its defaults', async () => {
  await mkdir(join(dir, 'src/activities/echo'));
  await writeFile(join(dir, 'src/activities/echo/definition.ts'), DEFINITION);
  await writeFile(join(dir, 'src/activities/echo/activity.ts'), ACTIVITY);
  const registryFile = join(dir, 'src/activities/registry.ts');
  const source = await readFile(registryFile, 'utf8');
  const added = source
    .replace(
      'import { emailConnector }',
      "import { echoConnector } from './echo/definition.js';\nimport { emailConnector }",
    )
    .replace(/(export const CONNECTORS = \[)/, '$1echoConnector, ');
  assert.notEqual(added, source);
  await writeFile(registryFile, added);
  await writeFile(join(dir, 'check.ts'), CHECK);
  const tsx = join(root, 'node_modules/.bin/tsx');

  const { stdout } = await run(tsx, ['check.ts'], { cwd: dir });
  const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  assert.equal(out.valid, true, JSON.stringify(out.problems));
  assert.deepEqual(out.invalid, ['/steps/0/config/say', '/steps/0/config/times']);
  assert.deepEqual(out.catalogue, {
    configSchema: 'object',
    defaults: { timeout: '5s', retry: { maxAttempts: 2 } },
    example: { id: 'my_echo', type: 'echo', config: { say: 'hello {{ trigger.name }}' } },
  });
  assert.deepEqual(out.workflow, { defaults: { timeout: '5s', retry: { maxAttempts: 2 } } });
  assert.deepEqual(out.tested.config, { say: 'hi Ann', times: 2 });
  assert.deepEqual(out.tested.output.said, ['hi Ann', 'hi Ann']);
  assert.deepEqual(out.activity, { output: { said: ['from a run'], key: 'r:say' }, attempt: 1 });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

// A trivial built-in step type: its output is its `value`, as written.
const STEP = `import type { StepContext, StepOf, StepOutcome } from '../context.js';

/** Its output is its \`value\`, as written. */
export async function constant(step: StepOf<'constant'>, _ctx: StepContext): Promise<StepOutcome> {
  return { output: step.config.value };
}
`;
const SCHEMA_ENTRY =
  "  z.strictObject({ ...common, type: z.literal('constant'), config: z.strictObject({ value: z.unknown() }) }),\n";

// Everything the new step type is checked through, from the copy of the tree it was added to.
const CHECK = `import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { registry } from './src/activities/registry.js';
import { buildRegistry } from './src/activities/registry-checks.js';
import { defineConnector } from './src/activities/define-connector.js';
import { toMermaid } from './src/definitions/diagram.js';
import { BUILT_IN_STEP_TYPES, definitionJsonSchema, languageOf } from './src/definitions/schema.js';
import { validateDefinition } from './src/definitions/validate.js';
import type { StepContext } from './src/workflows/context.js';
import { runStep } from './src/workflows/steps/index.js';
import { WORKFLOWS_PATH } from './src/worker/bundle.js';
import { z } from 'zod';

const step = { id: 'answer', type: 'constant', config: { value: { n: 42 } } } as const;
const definition = { name: 'constant', steps: [step, { id: 'done', type: 'succeed' }] };
const valid = validateDefinition(definition, registry);
const invalid = validateDefinition({ name: 'c', steps: [{ id: 'a', type: 'constant', config: { other: 1 } }] }, registry);
let refused = '';
try {
  buildRegistry([defineConnector({ type: 'constant', description: 'd', configSchema: z.object({}), defaults: { timeout: '1s', retry: {} }, example: { config: {} }, create: () => async () => null })]);
} catch (err) {
  refused = String(err);
}
const published = JSON.stringify(definitionJsonSchema(registry));
const outcome = await runStep(step, {} as StepContext);
const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
console.log(JSON.stringify({
  valid: valid.ok,
  problems: valid.ok ? [] : valid.problems,
  invalid: invalid.ok ? [] : invalid.problems.map((p) => p.pointer),
  builtIn: BUILT_IN_STEP_TYPES.includes('constant'),
  known: languageOf(registry).stepTypes.includes('constant'),
  refused,
  published: published.includes('"const":"constant"'),
  diagram: toMermaid(definition),
  outcome,
  bundled: code.includes('src/workflows/steps/constant.ts'),
}));
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mini-zaps-step-kit-'));
  await cp(join(root, 'src'), join(dir, 'src'), { recursive: true });
  await cp(join(root, 'temporal-config'), join(dir, 'temporal-config'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) await cp(join(root, f), join(dir, f));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
});
after(() => rm(dir, { recursive: true, force: true }));

it('a built-in step type added as its file, its schema entry and one dispatch line type-checks, validates, is refused as a connector name, is published, dispatched and bundled', async () => {
  await writeFile(join(dir, 'src/workflows/steps/constant.ts'), STEP);

  const schemaFile = join(dir, 'src/definitions/schema.ts');
  const schema = await readFile(schemaFile, 'utf8');
  const withEntry = schema.replace(/(const LEAF_STEPS = \[\n)/, `$1${SCHEMA_ENTRY}`);
  assert.notEqual(withEntry, schema);
  await writeFile(schemaFile, withEntry);

  const tableFile = join(dir, 'src/workflows/steps/index.ts');
  const table = await readFile(tableFile, 'utf8');
  const withLine = table
    .replace(
      "import { delay } from './delay.js';",
      "import { constant } from './constant.js';\nimport { delay } from './delay.js';",
    )
    .replace(/(export const handlers[^{]*\{\n)/, '$1  constant,\n');
  assert.equal(withLine.split('\n').length, table.split('\n').length + 2);
  await writeFile(tableFile, withLine);

  // The type checker holds every other place (the dispatch table must name every built-in type).
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: './tsconfig.base.json', include: ['src'], exclude: ['src/**/*.test.ts'] }),
  );
  await cp(join(root, 'tsconfig.json'), join(dir, 'tsconfig.base.json'));
  await run(join(root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', 'tsconfig.json'], { cwd: dir });

  await writeFile(join(dir, 'check.ts'), CHECK);
  const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), ['check.ts'], { cwd: dir });
  const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  assert.equal(out.valid, true, JSON.stringify(out.problems));
  assert.deepEqual(out.invalid.sort(), ['/steps/0/config', '/steps/0/config/value']);
  assert.equal(out.builtIn, true);
  assert.equal(out.known, true);
  assert.match(out.refused, /connector 'constant' takes the name of a built-in step type/);
  assert.equal(out.published, true);
  assert.match(out.diagram, /s_answer\["answer<br\/><small>constant<\/small>"\]/);
  assert.match(out.diagram, /s_answer --> s_done/);
  assert.deepEqual(out.outcome, { output: { n: 42 } });
  assert.equal(out.bundled, true);
});

import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The layers of src/, lowest first. A folder imports from its own layer's folder and the layers
// below it, never from above: shared → definitions → db → activities → workflows → temporal → runs
// → triggers → api | worker → workflow-tests → bootstrap.ts → main (the processes' entry points) → cli.
const LAYERS = [
  ['shared'],
  ['definitions'],
  ['db'],
  ['activities'],
  ['workflows'],
  ['temporal'],
  ['runs'],
  ['triggers'],
  ['api', 'worker'],
  ['workflow-tests'],
  ['bootstrap.ts'],
  ['main'],
  ['cli'],
];
// `mz` (src/cli) talks to the API over HTTP only: besides its own folder it takes pure helpers from
// src/shared and, for `mz test` alone, the workflow test runner; never the server's layers.
const CLI_FORBIDDEN = [
  'definitions',
  'db',
  'activities',
  'workflows',
  'temporal',
  'runs',
  'triggers',
  'api',
  'worker',
  'bootstrap.ts',
  'main',
];
const cliZones = CLI_FORBIDDEN.map((from) => ({
  target: 'src/cli',
  from: `src/${from}`,
  message: `src/cli talks to the API over HTTP only; it does not import src/${from} (see eslint.config.js)`,
}));
// The upward arrows that remain, each a file of the higher folder that the lower one may name, until
// it moves: the run index stores the run model's types; workflow code names the types of activities that live
// beside what they call (admission gates, bulk re-runs, failure workflows, schedule firings).
const UPWARD = {
  'db>workflows': ['./run-model.ts'],
  'workflows>runs': [
    './admission-activities.ts',
    './bulk-rerun-activities.ts',
    './event-activities.ts',
    './failure-activities.ts',
  ],
  'workflows>triggers': ['./schedule/firing-activities.ts'],
};
const layerZones = LAYERS.flatMap((layer, i) =>
  layer.flatMap((target) =>
    [...LAYERS.slice(i + 1).flat(), ...layer.filter((peer) => peer !== target)].map((from) => ({
      target: `src/${target}`,
      from: `src/${from}`,
      ...(UPWARD[`${target}>${from}`] && { except: UPWARD[`${target}>${from}`] }),
      message: `src/${target} sits below src/${from} (see the layers in eslint.config.js)`,
    })),
  ),
);

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'scripts/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Modules that import each other at run time see each other half-initialised; type-only imports are fine.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import './x.js' and mean './x.ts'.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: { 'import-x/no-cycle': 'error' },
  },
  {
    // The folders of src/ keep their layer order: an import from a higher layer fails (tests may import anything).
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: [...layerZones, ...cliZones] }],
    },
  },
  {
    // Workflow code is deterministic: no I/O, no Node built-ins, no database or logger.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'child_process', 'os'],
              message: 'workflow code cannot use Node built-ins',
            },
            {
              group: ['pg', 'pino', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
              message: 'workflow code talks to the world only through activities',
            },
          ],
        },
      ],
    },
  },
);

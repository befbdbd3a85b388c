// Runs every *.test.ts under src/ and test/ with node's test runner (tsx loads TypeScript).
// Usage: npm test [-- file-or-dir ...]. A test file gets 5 minutes, or TEST_FILE_TIMEOUT_MS
// (the fault suite's 9,000-run Kafka test needs more).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// The fault-injection suite (test/faults) runs on its own: npm run test:faults.
function collect(path, skip) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path).flatMap((entry) =>
    entry === 'node_modules' || skip.includes(join(path, entry)) ? [] : collect(join(path, entry), skip),
  );
}

const roots = process.argv.slice(2);
const files = (
  roots.length
    ? roots.flatMap((r) => collect(r, []))
    : ['src', 'test'].flatMap((r) => collect(r, [join('test', 'faults')]))
).sort();
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  '--test-concurrency=1',
  `--test-timeout=${Number(process.env.TEST_FILE_TIMEOUT_MS ?? 300_000)}`,
  ...files,
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } });
process.exit(result.status ?? 1);

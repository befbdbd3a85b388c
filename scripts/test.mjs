// Runs every *.test.ts under src/ and test/ with node's test runner (tsx loads TypeScript).
// Usage: npm test [-- file-or-dir ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path).flatMap((entry) => (entry === 'node_modules' ? [] : collect(join(path, entry))));
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['src', 'test']).flatMap(collect).sort();
const args = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=300000', ...files];
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } });
process.exit(result.status ?? 1);

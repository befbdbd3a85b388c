// npm run test:stress [-- file-or-dir ...]: the suite (as npm test runs it, or the files given)
// while one busy process per core keeps the machine loaded, to find tests that only pass on an
// idle machine. Prints how long the suite took; exits with the suite's status.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const cores = availableParallelism();
const hogs = Array.from({ length: cores }, () =>
  spawn(process.execPath, [here('cpu-hog.mjs'), String(process.pid)], { stdio: 'ignore' }),
);
const stopHogs = () => hogs.forEach((hog) => hog.kill('SIGKILL'));
process.on('exit', stopHogs);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

console.log(`test:stress: ${cores} busy processes, one per core`);
const started = Date.now();
const suite = spawn(process.execPath, [here('test.mjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
suite.on('exit', (code, signal) => {
  stopHogs();
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(
    `test:stress: the suite ${code === 0 ? 'passed' : 'failed'} in ${seconds} s under ${cores} busy processes`,
  );
  process.exit(code ?? (signal ? 1 : 0));
});

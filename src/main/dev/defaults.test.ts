import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createGuard } from '../../activities/http/guard.js';
import { AppError } from '../../shared/errors.js';
import { loadConfig } from '../../shared/config.js';
import { devAllowlist, devDefaults } from './defaults.js';

const isBlocked = (err: unknown) => err instanceof AppError && err.code === 'HTTP_BLOCKED_ADDRESS';

describe('the allow-list npm run dev sets', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('lets http steps reach the API port the examples call and refuses the Temporal gRPC and Web UI ports', () => {
    const guard = createGuard(devAllowlist(3000));
    assert.doesNotThrow(() => guard.assertAllowed(new URL('http://127.0.0.1:3000/healthz')));
    for (const url of [
      'http://127.0.0.1:8233/api/v1/namespaces/default/workflows',
      'http://127.0.0.1:7233/',
      'http://127.0.0.1:9464/metrics',
      'http://127.0.0.1/',
    ]) {
      assert.throws(() => guard.assertAllowed(new URL(url)), isBlocked, url);
    }
  });

  it('is what dev configures when HTTP_ALLOWLIST is unset, and an explicit HTTP_ALLOWLIST wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-dev-'));
    dirs.push(dir);
    assert.equal(loadConfig({}, devDefaults(dir, 3100)).HTTP_ALLOWLIST, '127.0.0.1:3100,localhost:3100');
    assert.equal(
      loadConfig({ HTTP_ALLOWLIST: 'hooks.internal' }, devDefaults(dir, 3100)).HTTP_ALLOWLIST,
      'hooks.internal',
    );
  });

  it('keeps the generated keys in DATA_DIR, so a restart keeps tokens and sealed secrets valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-dev-'));
    dirs.push(dir);
    const first = devDefaults(dir, 3000);
    assert.ok((first.AUTH_HS256_SECRET ?? '').length >= 32);
    assert.deepEqual(devDefaults(dir, 3000), first);
  });
});

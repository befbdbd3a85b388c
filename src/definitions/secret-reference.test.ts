import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSecretReference, secretReferenceProblems, storePath } from './secret-reference.js';

describe('secret references', () => {
  it('parses built-in names and store references with an optional version', () => {
    assert.deepEqual(parseSecretReference('crm_token'), { ok: true, ref: { kind: 'builtin', name: 'crm_token' } });
    assert.deepEqual(parseSecretReference('vault-main:app/db@3#password'), {
      ok: true,
      ref: { kind: 'store', store: 'vault-main', path: 'app/db', version: '3', field: 'password' },
    });
    assert.deepEqual(parseSecretReference('aws-prod:prod/db#password'), {
      ok: true,
      ref: { kind: 'store', store: 'aws-prod', path: 'prod/db', field: 'password' },
    });
  });

  it('refuses paths that leave the prefix, no field, bad versions, hostile sizes', () => {
    for (const bad of [
      'v:../x#f',
      'v:a/../../x#f',
      'v:/etc/x#f',
      'v:a/./b#f',
      'v:a//b#f',
      'v:a/b',
      'v:a/b#',
      'v:a@1@2#f',
      'v:a@../x#f',
      ':a#f',
      'v:a#f\u0000',
      `v:${'a/'.repeat(400)}b#f`,
      'bad name!',
      'x'.repeat(101),
    ])
      assert.equal(parseSecretReference(bad).ok, false, bad);
  });

  it('finds malformed literal references in a config, by JSON pointer', () => {
    const problems = secretReferenceProblems(
      {
        ok: "{{ $secret('v:a#f') }}",
        nested: { bad: 'x {{ $secret( "v:../a#f" ) }}' },
        built: "{{ $secret('v:' & x) }}",
      },
      '/config',
    );
    assert.deepEqual(
      problems.map((p) => p.pointer),
      ['/config/nested/bad'],
    );
  });

  it('joins a prefix and a path without doubling or losing slashes', () => {
    assert.equal(storePath('/zaps/acme/', 'app/db'), 'zaps/acme/app/db');
    assert.equal(storePath('', 'app/db'), 'app/db');
  });
});

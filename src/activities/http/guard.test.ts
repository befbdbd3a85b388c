import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.js';
import { AppError } from '../../shared/errors.js';
import { createHttpExecute } from './activity.js';
import { parseAllowlist } from './allowlist.js';
import { embeddedIpv4 } from './embedded-ipv4.js';
import { createGuard } from './guard.js';
import { HttpConfigSchema } from './schema.js';

const isBlocked = (err: unknown) => err instanceof AppError && err.code === 'HTTP_BLOCKED_ADDRESS' && !err.retryable;

describe('the SSRF guard and IPv6 addresses that carry IPv4 addresses', () => {
  const guard = createGuard('');
  const refused = (host: string) =>
    assert.throws(() => guard.assertAllowed(new URL(`http://[${host}]/`)), isBlocked, host);
  const allowed = (host: string) => assert.doesNotThrow(() => guard.assertAllowed(new URL(`http://[${host}]/`)), host);

  it('decodes the IPv4 address of each form', () => {
    assert.deepEqual(embeddedIpv4('::ffff:127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(embeddedIpv4('::ffff:0:a9fe:a9fe'), ['169.254.169.254']);
    assert.deepEqual(embeddedIpv4('::10.0.0.1'), ['10.0.0.1']);
    assert.deepEqual(embeddedIpv4('64:ff9b::7f00:1'), ['127.0.0.1']);
    assert.deepEqual(embeddedIpv4('2002:c0a8:101::1'), ['192.168.1.1']);
    // Teredo: server 65.54.227.120, client 192.168.0.1 stored XOR-ed with 0xffffffff.
    assert.deepEqual(embeddedIpv4('2001:0:4136:e378:8000:63bf:3f57:fffe'), ['65.54.227.120', '192.168.0.1']);
    assert.deepEqual(embeddedIpv4('2606:4700::1111'), []);
  });

  it('refuses NAT64 64:ff9b::/96 addresses of loopback, private and metadata addresses, and all of 64:ff9b:1::/48', () => {
    for (const host of [
      '64:ff9b::7f00:1',
      '64:ff9b::127.0.0.1',
      '64:ff9b::a00:1',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b:1::808:808',
    ])
      refused(host);
    allowed('64:ff9b::808:808');
  });

  it('refuses 6to4 2002::/16 addresses whose IPv4 part is private or local', () => {
    for (const host of ['2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:c0a8:101::1']) refused(host);
    allowed('2002:808:808::1');
  });

  it('refuses IPv4-compatible ::/96 and IPv4-translated ::ffff:0:0/96 addresses of private or local addresses', () => {
    for (const host of ['::127.0.0.1', '::a00:1', '::a9fe:a9fe', '::ffff:0:7f00:1', '::ffff:0:10.0.0.1']) refused(host);
    allowed('::808:808');
  });

  it('refuses Teredo 2001::/32 addresses whose server or (XOR-ed) client IPv4 address is private or local', () => {
    refused('2001:0:4136:e378:8000:63bf:3f57:fffe');
    refused('2001:0:7f00:1:0:0:f7f7:f7f7');
    allowed('2001:0:4136:e378:8000:63bf:f7f7:f7f7');
  });

  it('refuses site-local fec0::/10', () => {
    refused('fec0::1');
    refused('feff::1');
  });

  it('applies an allow-listed IPv4 range to the IPv6 forms that carry it', () => {
    assert.doesNotThrow(() => createGuard('10.0.0.0/8').assertAllowed(new URL('http://[64:ff9b::a00:1]/')));
  });
});

describe('HTTP_ALLOWLIST with host:port entries', () => {
  let first: Receiver;
  let second: Receiver;
  let firstPort: number;
  before(async () => {
    first = await startReceiver();
    second = await startReceiver();
    first.accept('/ok', '/named');
    second.accept('/any', '/named');
    firstPort = Number(new URL(first.url).port);
  });
  after(async () => {
    await first.close();
    await second.close();
  });
  const ctx = () => ({
    input: { config: {}, runId: 'r', workflowId: 'w', tenantId: 't', stepId: 's', idempotencyKey: 'r:s' },
    signal: AbortSignal.timeout(60_000),
    attempt: 1,
    secrets: [],
  });
  const get = (allowlist: string, url: string) => createHttpExecute(allowlist)(HttpConfigSchema.parse({ url }), ctx());

  it('an address:port entry allows that port only', async () => {
    assert.equal((await get(`127.0.0.1:${firstPort}`, `${first.url}/ok`)).status, 200);
    await assert.rejects(get(`127.0.0.1:${firstPort}`, `${second.url}/no`), isBlocked);
    assert.equal(second.requestsTo('/no').length, 0);
  });

  it('a host:port entry allows that name on that port only, whatever it resolves to', async () => {
    const byName = (port: number) => `http://localhost:${port}/named`;
    assert.equal((await get(`localhost:${firstPort}`, byName(firstPort))).status, 200);
    await assert.rejects(get(`localhost:${firstPort}`, byName(Number(new URL(second.url).port))), isBlocked);
  });

  it('a plain host or CIDR still allows every port', async () => {
    assert.equal((await get('127.0.0.1', `${second.url}/any`)).status, 200);
    assert.equal((await get('127.0.0.0/8', `${second.url}/any`)).status, 200);
  });

  it('parses [v6]:port, bare IPv6 and IPv6 CIDR entries', () => {
    const list = parseAllowlist(` [::1]:8080, fd00::/8 , 2001:db8::1, api.example.com:443 `);
    assert.equal(list.allowsAddress('::1', 6, 8080), true);
    assert.equal(list.allowsAddress('::1', 6, 8233), false);
    assert.equal(list.allowsAddress('fd12::5', 6, 7233), true);
    assert.equal(list.allowsAddress('2001:db8::1', 6, 1), true);
    assert.equal(list.allowsHost('API.example.com', 443), true);
    assert.equal(list.allowsHost('api.example.com', 80), false);
    assert.doesNotThrow(() => createGuard('[::1]:8080').assertAllowed(new URL('http://[::1]:8080/')));
    assert.throws(() => createGuard('[::1]:8080').assertAllowed(new URL('http://[::1]:8233/')), isBlocked);
  });

  it('refuses malformed entries at start with INVALID_HTTP_ALLOWLIST', () => {
    for (const entry of [
      'localhost:0',
      'localhost:70000',
      'localhost:http',
      '10.0.0.0/33',
      '[::1]:x',
      'a b',
      '10.0.0.0/8/1',
    ]) {
      assert.throws(
        () => parseAllowlist(entry),
        (err: unknown) => err instanceof AppError && err.code === 'INVALID_HTTP_ALLOWLIST',
        entry,
      );
    }
  });
});

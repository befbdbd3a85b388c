import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { createLogger } from '../../shared/logger.js';
import { mintToken } from '../../shared/tokens.js';
import type { ApiEnv } from '../env.js';
import { authMiddleware } from './auth.js';
import { requireScopes } from './scopes.js';

const SECRET = 'a-test-secret-that-is-long-enough-to-be-used';
const base = {
  NODE_ENV: 'test',
  AUTH_TENANT_CLAIM: 'tenant',
  AUTH_ISSUER: undefined,
  AUTH_AUDIENCE: 'mini-zaps',
  AUTH_JWKS_URL: undefined,
  AUTH_HS256_SECRET: SECRET,
  AUTH_MAX_TOKEN_AGE_S: 86_400,
} as const;

function appWith(config: Parameters<typeof authMiddleware>[0]) {
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    c.set('logger', createLogger('silent', 'test'));
    await next();
  });
  app.use('*', authMiddleware(config));
  app.post('/v1/workflows', requireScopes('workflows:write'), (c) => c.json({ tenant: c.var.tenantId }));
  app.get('/v1/runs', requireScopes('runs:read'), (c) => c.json({ tenant: c.var.tenantId }));
  app.post('/v1/workflows/x/runs', requireScopes('runs:write'), (c) => c.json({ tenant: c.var.tenantId }));
  app.post('/codec/decode', requireScopes('operator'), (c) => c.json({ tenant: c.var.tenantId }));
  app.all('*', (c) => c.json({ tenant: c.var.tenantId }));
  return app;
}

const call = async (app: Hono<ApiEnv>, token: string | undefined, path = '/v1/workflows', method = 'GET') => {
  const res = await app.request(path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body: { code?: string; tenant?: string } = JSON.parse(await res.text());
  return { status: res.status, body };
};

describe('authentication and scopes', () => {
  const app = appWith({ ...base, AUTH_MODE: 'hs256' });
  const token = (over: Partial<Parameters<typeof mintToken>[1]> = {}) =>
    mintToken(SECRET, { tenant: 'acme', scopes: ['workflows:read'], audience: 'mini-zaps', ...over });

  it('accepts a valid token and takes the tenant from its claim', async () => {
    assert.deepEqual(await call(app, await token()), { status: 200, body: { tenant: 'acme' } });
  });

  it('answers 401 problem+json for no token, an expired one, a wrong signature, a wrong audience, alg none, no tenant', async () => {
    const expired = await new SignJWT({ tenant: 'acme', scope: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setAudience('mini-zaps')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    const wrongKey = await mintToken('another-secret-that-is-long-enough-to-be-used', {
      tenant: 'acme',
      scopes: ['admin'],
      audience: 'mini-zaps',
    });
    const wrongAudience = await token({ audience: 'someone-else' });
    const none = new UnsecuredJWT({ tenant: 'acme', scope: 'admin', aud: 'mini-zaps' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .encode();
    const noTenant = await new SignJWT({ scope: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setAudience('mini-zaps')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const notYet = await new SignJWT({ tenant: 'acme', scope: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setAudience('mini-zaps')
      .setNotBefore('1h')
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(SECRET));
    for (const [name, t] of Object.entries({
      missing: undefined,
      expired,
      wrongKey,
      wrongAudience,
      none,
      noTenant,
      notYet,
      garbage: 'abc.def.ghi',
    })) {
      const res = await call(app, t);
      assert.equal(res.status, 401, name);
      assert.equal(res.body.code, 'UNAUTHENTICATED', name);
    }
  });

  it('refuses a token it accepted before once that token has expired', async (t) => {
    const short = await token({ ttl: '60s' });
    assert.equal((await call(app, short)).status, 200);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 120_000 });
    const res = await call(app, short);
    t.mock.timers.reset();
    assert.deepEqual([res.status, res.body.code], [401, 'UNAUTHENTICATED']);
  });

  it('refuses an RS256 token in HS256 mode (no algorithm confusion)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const rs = await new SignJWT({ tenant: 'acme', scope: 'admin' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt()
      .setAudience('mini-zaps')
      .setExpirationTime('1h')
      .sign(privateKey);
    assert.equal((await call(app, rs)).status, 401);
  });

  it("answers 403 when a route's declared scope is missing; admin has every scope but operator", async () => {
    const reader = await token();
    assert.equal((await call(app, reader, '/v1/workflows', 'POST')).body.code, 'FORBIDDEN');
    assert.equal((await call(app, reader, '/v1/runs')).status, 403);
    assert.equal((await call(app, await token({ scopes: ['admin'] }), '/v1/workflows', 'POST')).status, 200);
    assert.equal(
      (await call(app, await token({ scopes: ['runs:write'] }), '/v1/workflows/x/runs', 'POST')).status,
      200,
    );
    assert.equal((await call(app, await token({ scopes: ['admin'] }), '/codec/decode', 'POST')).status, 403);
    assert.equal((await call(app, await token({ scopes: ['operator'] }), '/codec/decode', 'POST')).status, 200);
  });

  describe('token claims', () => {
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ tenant: 'acme', scope: 'workflows:read', aud: 'mini-zaps', ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(SECRET));
    const now = () => Math.floor(Date.now() / 1000);
    const short = appWith({ ...base, AUTH_MODE: 'hs256', AUTH_MAX_TOKEN_AGE_S: 3600 });
    const unauthenticated = async (app: Hono<ApiEnv>, t: string) => {
      const res = await call(app, t);
      return res.status === 401 && res.body.code === 'UNAUTHENTICATED';
    };

    it('refuses a token without exp', async () => {
      assert.ok(await unauthenticated(app, await sign({ iat: now() })));
    });

    it('refuses a token without iat', async () => {
      assert.ok(await unauthenticated(app, await sign({ exp: now() + 600 })));
    });

    it('refuses a token issued longer ago than AUTH_MAX_TOKEN_AGE_S although it has not expired', async () => {
      assert.ok(await unauthenticated(short, await sign({ iat: now() - 7200, exp: now() + 600 })));
      assert.equal((await call(short, await sign({ iat: now() - 600, exp: now() + 600 }))).status, 200);
    });

    it('refuses a token whose lifetime (exp - iat) exceeds AUTH_MAX_TOKEN_AGE_S', async () => {
      assert.ok(await unauthenticated(short, await sign({ iat: now(), exp: now() + 30 * 86_400 })));
      assert.ok(
        await unauthenticated(
          short,
          await mintToken(SECRET, { tenant: 'acme', scopes: ['workflows:read'], audience: 'mini-zaps', ttl: '2h' }),
        ),
      );
      assert.equal(
        (
          await call(
            short,
            await mintToken(SECRET, { tenant: 'acme', scopes: ['workflows:read'], audience: 'mini-zaps', ttl: '1h' }),
          )
        ).status,
        200,
      );
    });

    it('refuses a token without the configured audience, or with a wrong or missing issuer when AUTH_ISSUER is set (hs256)', async () => {
      assert.ok(await unauthenticated(app, await sign({ aud: undefined, iat: now(), exp: now() + 600 })));
      const withIssuer = appWith({ ...base, AUTH_MODE: 'hs256', AUTH_ISSUER: 'https://mini-zaps.test' });
      assert.ok(await unauthenticated(withIssuer, await sign({ iat: now(), exp: now() + 600 })), 'no iss');
      assert.ok(
        await unauthenticated(withIssuer, await sign({ iss: 'https://evil.test', iat: now(), exp: now() + 600 })),
        'wrong iss',
      );
      assert.equal(
        (await call(withIssuer, await sign({ iss: 'https://mini-zaps.test', iat: now(), exp: now() + 600 }))).status,
        200,
      );
    });

    it('refuses to start in production with hs256 and no AUTH_AUDIENCE', () => {
      assert.throws(
        () => authMiddleware({ ...base, NODE_ENV: 'production', AUTH_MODE: 'hs256', AUTH_AUDIENCE: undefined }),
        /AUTH_AUDIENCE: required/,
      );
      assert.doesNotThrow(() => authMiddleware({ ...base, NODE_ENV: 'production', AUTH_MODE: 'hs256' }));
    });
  });

  it("leaves probes, metrics, docs, the console's page and scripts and webhooks open, and nothing beside them", async () => {
    for (const path of [
      '/healthz',
      '/readyz',
      '/metrics',
      '/openapi.json',
      '/docs',
      '/docs/assets/swagger-ui-dist/swagger-ui.css',
      '/ui',
      '/ui/assets/app.js',
      '/hooks/abc',
    ])
      assert.equal((await call(app, undefined, path)).status, 200, path);
    for (const path of ['/ui/runs', '/uix', '/docs/x', '/v1/ui/assets/x'])
      assert.equal((await call(app, undefined, path)).status, 401, path);
  });

  describe('with an OIDC issuer', () => {
    let jwksUrl = '';
    let sign: (claims: Record<string, unknown>, issuer?: string) => Promise<string>;
    const server = createServer();
    before(async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      server.on('request', (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const address = server.address();
      jwksUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks.json`;
      sign = (claims, issuer = 'https://issuer.test') =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setIssuedAt()
          .setIssuer(issuer)
          .setAudience('mini-zaps')
          .setExpirationTime('1h')
          .sign(privateKey);
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('verifies with the JWKS, issuer and audience', async () => {
      const jwks = appWith({ ...base, AUTH_MODE: 'jwks', AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: 'https://issuer.test' });
      assert.deepEqual(await call(jwks, await sign({ tenant: 'globex', scp: ['workflows:read'] })), {
        status: 200,
        body: { tenant: 'globex' },
      });
      assert.equal(
        (await call(jwks, await sign({ tenant: 'globex', scp: ['workflows:read'] }, 'https://evil.test'))).status,
        401,
      );
      assert.equal(
        (
          await call(
            jwks,
            await mintToken(SECRET, {
              tenant: 'globex',
              scopes: ['admin'],
              audience: 'mini-zaps',
              issuer: 'https://issuer.test',
            }),
          )
        ).status,
        401,
        'an HS256 token is refused in JWKS mode',
      );
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Server } from 'node:http';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { createApp } from '../../src/api/app.js';
import { registry } from '../../src/activities/registry.js';
import { languageOf } from '../../src/definitions/schema.js';
import { loadConfig } from '../../src/shared/config.js';
import { chromiumMissing, launchChromium, serveHttp } from '../helpers/browser.js';
import { issuerOf, listenForProvider, startOidcProvider } from '../helpers/oidc-provider.js';
import { freePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';

const skip = chromiumMissing();
const AUDIENCE = 'https://api.mini-zaps.test';
const CLIENT_ID = 'mini-zaps-console';
const CONFIDENTIAL = { id: 'mini-zaps-console-confidential', secret: 'a-confidential-client-secret' };
const TENANT = 'acme';

const definition = (name: string) =>
  languageOf(registry).definition.parse({
    name,
    steps: [{ id: 'only', type: 'transform', config: { expression: '1' } }],
  });

type Problem = { type: string; code: string; status: number; detail: string };

describe('console sign-in: OIDC authorization code with PKCE against a real oidc-provider (real Temporal, real PostgreSQL, real HTTP)', () => {
  let stack: Stack;
  let api: Awaited<ReturnType<typeof serveHttp>>;
  /** The same API as a confidential client of the provider. */
  let confidentialApi: Awaited<ReturnType<typeof serveHttp>>;
  let provider: Awaited<ReturnType<typeof startOidcProvider>>;
  let browser: Browser | undefined;
  let issuer: string;
  let providerServer: Server | undefined;

  before(async () => {
    providerServer = await listenForProvider();
    issuer = issuerOf(providerServer);
    stack = await startStack();
    const config = {
      ...stack.deps.config,
      AUTH_MODE: 'jwks' as const,
      AUTH_ISSUER: issuer,
      AUTH_JWKS_URL: `${issuer}/jwks`,
      AUTH_AUDIENCE: AUDIENCE,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_SCOPES: 'workflows:read runs:read',
    };
    api = await serveHttp(createApp({ ...stack.deps, config }).fetch);
    confidentialApi = await serveHttp(
      createApp({
        ...stack.deps,
        config: { ...config, OIDC_CLIENT_ID: CONFIDENTIAL.id, OIDC_CLIENT_SECRET: CONFIDENTIAL.secret },
      }).fetch,
    );
    provider = await startOidcProvider({
      server: providerServer,
      clients: [
        { id: CLIENT_ID, redirectUri: `${api.url}/ui/callback` },
        { ...CONFIDENTIAL, redirectUri: `${confidentialApi.url}/ui/callback` },
      ],
      audience: AUDIENCE,
      scopes: 'workflows:read workflows:write runs:read runs:write',
      claims: { tenant: TENANT },
    });
    await stack.deps.workflows.create(TENANT, definition('Acme onboarding'));
    await stack.deps.workflows.create('someone-else', definition('Not for acme'));
    if (!skip) browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (provider) await provider.close();
    else providerServer?.close();
    await api?.close();
    await confidentialApi?.close();
    await stack?.stop();
  });

  /** Starts a sign-in as a browser would: the provider's address and the cookie to send back. */
  async function begin() {
    const res = await fetch(`${api.url}/ui/login`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location') ?? '');
    const setCookie = res.headers.get('set-cookie') ?? '';
    const cookie = /^(mz_login=[^;]+)/.exec(setCookie)?.[1] ?? '';
    return { location, setCookie, cookie, state: location.searchParams.get('state') ?? '' };
  }

  async function callback(query: Record<string, string>, cookie?: string) {
    const res = await fetch(`${api.url}/ui/callback?${new URLSearchParams(query)}`, {
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const problem: Problem = JSON.parse(await res.text());
    assert.equal(problem.status, res.status);
    return { status: res.status, problem, setCookie: res.headers.get('set-cookie') ?? '' };
  }

  async function open(path: string, base = api.url): Promise<Page> {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    // The provider's development pages import a web font; nothing leaves this machine.
    await page.route(/^https:/, (route) => route.abort());
    await page.goto(`${base}${path}`);
    return page;
  }

  /** From the console's token form through the provider's login and consent pages, back to the console. */
  async function signIn(page: Page): Promise<void> {
    await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
    await page.getByPlaceholder('Enter any login').fill('alice');
    await page.getByPlaceholder('and password').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Acme onboarding').waitFor();
  }

  it('/ui/login redirects to the authorization endpoint with an S256 PKCE challenge, state and nonce, and keeps them in an HttpOnly, SameSite=Lax cookie scoped to the callback', async () => {
    const { location, setCookie } = await begin();
    assert.equal(`${location.origin}${location.pathname}`, `${issuer}/auth`);
    const q = location.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), CLIENT_ID);
    assert.equal(q.get('redirect_uri'), `${api.url}/ui/callback`);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((q.get('state') ?? '').length >= 32 && (q.get('nonce') ?? '').length >= 32);
    assert.deepEqual((q.get('scope') ?? '').split(' ').sort(), ['openid', 'runs:read', 'workflows:read']);
    assert.match(setCookie, /^mz_login=[^;]+;/);
    assert.match(setCookie, /Path=\/ui\/callback/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.match(setCookie, /Max-Age=600/);
    // Sealed: neither the verifier nor the state can be read from the cookie.
    assert.ok(!setCookie.includes(q.get('state') ?? '-'));
  });

  it(
    'signing in at the provider (login, consent) lands on /ui signed in, with the tenant of the token and its workflows listed',
    { skip },
    async () => {
      const page = await open('/ui');
      await signIn(page);
      assert.equal(new URL(page.url()).pathname, '/ui');
      assert.equal(await page.getByText('Not for acme').count(), 0);
      assert.equal(await page.locator('#signout').isVisible(), true);
      // The token is kept where a pasted one is, and it is the provider's JWT for the API.
      const token: unknown = await page.evaluate('sessionStorage.getItem("mz-token")');
      assert.equal(typeof token, 'string');
      const claims = decodeJwt(String(token));
      assert.equal(claims.iss, issuer);
      assert.equal(claims.aud, AUDIENCE);
      assert.equal(claims.tenant, TENANT);
      assert.deepEqual(String(claims.scope).split(' ').sort(), ['runs:read', 'workflows:read']);
      await page.close();
    },
  );

  it(
    'a confidential client (OIDC_CLIENT_SECRET) signs in too: the provider takes its secret at the token endpoint',
    { skip },
    async () => {
      const page = await open('/ui', confidentialApi.url);
      await signIn(page);
      assert.equal(new URL(page.url()).origin, confidentialApi.url);
      const token: unknown = await page.evaluate('sessionStorage.getItem("mz-token")');
      assert.equal(decodeJwt(String(token)).client_id, CONFIDENTIAL.id);
      await page.close();
    },
  );

  it(
    'cancelling at the provider shows a page saying the sign-in was denied, with a way back, and no loop',
    { skip },
    async () => {
      const page = await open('/ui');
      await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
      const [answer] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/ui/callback'),
        page.getByRole('link', { name: '[ Cancel ]' }).click(),
      ]);
      assert.equal(answer.status(), 403);
      await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
      assert.match(await page.getByRole('alert').innerText(), /access_denied/);
      assert.equal(await page.getByText('LOGIN_DENIED').count(), 1);
      assert.equal(new URL(page.url()).pathname, '/ui/callback');
      await page.close();
    },
  );

  it('a callback without the sign-in cookie answers 400 LOGIN_SESSION_MISSING', async () => {
    const { state } = await begin();
    const res = await callback({ code: 'x', state, iss: issuer });
    assert.equal(res.status, 400);
    assert.equal(res.problem.code, 'LOGIN_SESSION_MISSING');
    assert.equal(res.problem.type, 'https://mini-zaps.dev/problems/login-session-missing');
  });

  it('a callback with a forged or tampered cookie answers 400 LOGIN_SESSION_MISSING', async () => {
    const { state, cookie } = await begin();
    const res = await callback({ code: 'x', state, iss: issuer }, `${cookie.slice(0, -4)}AAAA`);
    assert.equal(res.status, 400);
    assert.equal(res.problem.code, 'LOGIN_SESSION_MISSING');
  });

  it("a callback whose state is not the cookie's answers 400 LOGIN_STATE_MISMATCH and clears the cookie", async () => {
    const first = await begin();
    const second = await begin();
    const res = await callback({ code: 'x', state: second.state, iss: issuer }, first.cookie);
    assert.equal(res.status, 400);
    assert.equal(res.problem.code, 'LOGIN_STATE_MISMATCH');
    assert.match(res.setCookie, /^mz_login=;.*Max-Age=0/);
  });

  it("the provider's error answer is reported: access_denied 403 LOGIN_DENIED, others 502 LOGIN_PROVIDER_ERROR", async () => {
    const denied = await begin();
    const res = await callback(
      { error: 'access_denied', error_description: 'no thanks', state: denied.state, iss: issuer },
      denied.cookie,
    );
    assert.equal(res.status, 403);
    assert.equal(res.problem.code, 'LOGIN_DENIED');
    assert.match(res.problem.detail, /access_denied.*no thanks/);
    const down = await begin();
    const other = await callback({ error: 'temporarily_unavailable', state: down.state, iss: issuer }, down.cookie);
    assert.equal(other.status, 502);
    assert.equal(other.problem.code, 'LOGIN_PROVIDER_ERROR');
  });

  it('a code the token endpoint refuses answers 502 LOGIN_TOKEN_EXCHANGE_FAILED naming the provider error', async () => {
    const { state, cookie } = await begin();
    const res = await callback({ code: 'not-a-code-the-provider-issued', state, iss: issuer }, cookie);
    assert.equal(res.status, 502);
    assert.equal(res.problem.code, 'LOGIN_TOKEN_EXCHANGE_FAILED');
    assert.match(res.problem.detail, /invalid_grant/);
  });

  it('a provider that cannot be reached makes /ui/login answer 502 LOGIN_PROVIDER_UNAVAILABLE', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const app = createApp({
      ...stack.deps,
      config: {
        ...stack.deps.config,
        AUTH_MODE: 'jwks',
        AUTH_ISSUER: nowhere,
        AUTH_JWKS_URL: `${nowhere}/jwks`,
        AUTH_AUDIENCE: AUDIENCE,
        OIDC_CLIENT_ID: CLIENT_ID,
      },
    });
    const res = await app.request('/ui/login');
    assert.equal(res.status, 502);
    const problem: Problem = JSON.parse(await res.text());
    assert.equal(problem.code, 'LOGIN_PROVIDER_UNAVAILABLE');
    assert.equal(res.headers.get('set-cookie'), null);
  });

  it('without OIDC_CLIENT_ID the console offers no sign-in and /ui/login answers 404 LOGIN_NOT_CONFIGURED', async () => {
    const page = await stack.app.request('/ui');
    assert.doesNotMatch(await page.text(), /data-sign-in/);
    const withSignIn = await fetch(`${api.url}/ui`);
    assert.match(await withSignIn.text(), /data-sign-in="\/ui\/login"/);
    const res = await stack.app.request('/ui/login');
    assert.equal(res.status, 404);
    const problem: Problem = JSON.parse(await res.text());
    assert.equal(problem.code, 'LOGIN_NOT_CONFIGURED');
  });

  it('OIDC_CLIENT_ID without AUTH_MODE=jwks is refused at start, naming the variable', () => {
    assert.throws(
      () => loadConfig({ AUTH_MODE: 'hs256', OIDC_CLIENT_ID: CLIENT_ID }),
      /OIDC_CLIENT_ID: console sign-in needs AUTH_MODE=jwks/,
    );
  });
});

// The console: a router over the address's hash, a token gate, the theme switch and shortcuts.
import { api, token } from './api.js';
import { approvalsView } from './approvals.js';
import { auditView } from './audit.js';
import { clear, failure, h } from './dom.js';
import { connectionsView } from './connections.js';
import { deadLettersView } from './dead-letters.js';
import { runView } from './run.js';
import { runsView } from './runs.js';
import { triggersView } from './triggers.js';
import { newWorkflowView, workflowView } from './workflow.js';
import { workflowsView } from './workflows.js';

const SECTIONS = [
  { key: 'w', href: '#/workflows', label: 'Workflows' },
  { key: 'r', href: '#/runs', label: 'Runs' },
  { key: 'd', href: '#/dead-letters', label: 'Dead letters' },
  { key: 'p', href: '#/approvals', label: 'Approvals' },
  { key: 's', href: '#/triggers', label: 'Schedules' },
  { key: 'c', href: '#/connections', label: 'Connections' },
  { key: 'a', href: '#/audit', label: 'Audit' },
];

const ROUTES = [
  [/^\/workflows\/new$/, () => newWorkflowView],
  [/^\/workflows\/([^/]+)$/, () => workflowView],
  [/^\/workflows$/, () => workflowsView],
  [/^\/runs\/([^/]+)$/, () => runView],
  [/^\/runs$/, () => runsView],
  [/^\/dead-letters$/, () => deadLettersView],
  [/^\/approvals$/, () => approvalsView],
  [/^\/triggers$/, () => triggersView],
  [/^\/connections$/, () => connectionsView],
  [/^\/audit$/, () => auditView],
];

const main = document.getElementById('main');
let current;
/** While the sign-in form shows, a 401 is the form's own answer. */
let gated = false;

/** What a view gets: where to draw, its parameters, and timers that stop when the view is left. */
function context(params, query) {
  const timers = [];
  return {
    params,
    query,
    live: true,
    every(ms, fn) {
      timers.push(setInterval(() => void fn(), ms));
    },
    stop() {
      this.live = false;
      timers.forEach(clearInterval);
    },
  };
}

async function route() {
  current?.stop();
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  if (!path) return void location.replace('#/workflows');
  const query = new URLSearchParams(search);
  for (const a of document.querySelectorAll('#nav a'))
    a.toggleAttribute('aria-current', path.startsWith(a.getAttribute('href').slice(1)));
  for (const [pattern, view] of ROUTES) {
    const m = pattern.exec(path);
    if (!m) continue;
    current = context(m.slice(1).map(decodeURIComponent), query);
    clear(main, h('p', { class: 'muted' }, 'Loading…'));
    try {
      await view()(main, current);
    } catch (err) {
      if (err?.status !== 401) clear(main, failure(err));
    }
    return;
  }
  clear(main, failure(`nothing at ${path}`));
}

function login(message) {
  gated = true;
  current?.stop();
  document.getElementById('signout').hidden = true;
  const input = h('input', {
    type: 'password',
    id: 'token',
    autocomplete: 'off',
    required: true,
    placeholder: 'eyJhbGciOi…',
    'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  // Set by the page when the API is a client of the issuer it trusts (OIDC_CLIENT_ID).
  const provider = document.body.dataset.signIn;
  const form = h(
    'form',
    { class: 'login panel' },
    h('h1', {}, 'Sign in'),
    provider && [
      h('a', { class: 'button primary', href: provider }, 'Sign in with your identity provider'),
      h('p', { class: 'muted' }, 'or paste a token:'),
    ],
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'muted' }, 'Paste a bearer token (npm run token). It is kept in this tab only.'),
    error,
    h('button', { type: 'submit', class: provider ? undefined : 'primary' }, 'Use token'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    token.set(input.value.trim());
    if (await signedIn()) return void start();
    token.clear();
    error.textContent = 'The API did not accept this token.';
  });
  clear(main, form);
  input.focus();
}

async function signedIn() {
  try {
    await api('GET', '/v1/workflows?limit=1');
    return true;
  } catch (err) {
    if (err?.status === 401) return false;
    throw err;
  }
}

function start() {
  gated = false;
  document.getElementById('signout').hidden = !token.get();
  void route();
}

function toggleTheme() {
  const root = document.documentElement;
  const dark = root.dataset.theme ? root.dataset.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  root.dataset.theme = dark ? 'light' : 'dark';
  localStorage.setItem('mz-theme', root.dataset.theme);
}

function shortcuts() {
  let pending = false;
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.('input, textarea, select, [contenteditable]')) return;
    if (pending) {
      pending = false;
      const section = SECTIONS.find((s) => s.key === e.key);
      if (section) location.hash = section.href;
      return;
    }
    if (e.key === 'g') pending = true;
    else if (e.key === 't') toggleTheme();
    else if (e.key === '/') {
      const field = main.querySelector('input, select, textarea');
      if (!field) return;
      e.preventDefault();
      field.focus();
    }
  });
}

function init() {
  const nav = document.getElementById('nav');
  for (const s of SECTIONS) nav.append(h('a', { href: s.href, title: `g ${s.key}` }, s.label));
  document.getElementById('theme').addEventListener('click', toggleTheme);
  document.getElementById('signout').addEventListener('click', () => (token.clear(), login()));
  window.addEventListener('mz:unauthenticated', (e) => gated || login(token.get() ? e.detail : undefined));
  window.addEventListener('hashchange', () => void route());
  shortcuts();
  signedIn().then(
    (ok) => (ok ? start() : login()),
    (err) => clear(main, failure(err)),
  );
}

init();

// Stored connections. The API returns secret fields as $secret() references only; the console
// masks any other value under a secret-looking key as well.
import { api } from './api.js';
import { clear, h, heading, time } from './dom.js';

const SECRETISH = /pass|secret|token|key|credential/i;
const REFERENCE = /^\s*\$secret\(/;

export async function connectionsView(main) {
  let items;
  try {
    ({ items } = await api('GET', '/v1/connections'));
  } catch (err) {
    if (err.status !== 404) throw err;
    return void clear(main, heading('Connections'), h('p', { class: 'muted' }, 'This API has no connections.'));
  }
  const rows = items.map((c) =>
    h(
      'tr',
      { 'data-connection': c.name },
      h('td', {}, h('strong', {}, c.name)),
      h('td', {}, c.type),
      h('td', {}, h('pre', { class: 'json' }, JSON.stringify(masked(c.config), null, 2))),
      h('td', {}, c.rateLimit ? JSON.stringify(c.rateLimit) : '—'),
      h('td', {}, time(c.updatedAt)),
    ),
  );
  clear(
    main,
    heading('Connections'),
    h(
      'table',
      { class: 'list' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Type', 'Settings', 'Rate limit', 'Updated'].map((t) => h('th', {}, t)),
        ),
      ),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No connections.'))),
    ),
  );
}

function masked(value, key = '') {
  if (Array.isArray(value)) return value.map((v) => masked(v, key));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k)]));
  if (typeof value === 'string' && SECRETISH.test(key) && !REFERENCE.test(value)) return '••••••';
  return value;
}

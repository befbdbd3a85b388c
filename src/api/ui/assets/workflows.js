import { api, withQuery } from './api.js';
import { clear, h, heading, time } from './dom.js';

/** Every workflow of the tenant, newest first, a page at a time. */
export async function workflowsView(main) {
  const rows = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'More');
  let cursor;
  const load = async () => {
    const page = await api('GET', withQuery('/v1/workflows', { limit: 50, cursor }));
    for (const w of page.items) {
      rows.append(
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: `#/workflows/${encodeURIComponent(w.id)}` }, w.name)),
          h('td', { class: 'mono' }, w.id),
          h('td', {}, `v${w.latestVersion}`),
          h('td', {}, time(w.updatedAt)),
        ),
      );
    }
    cursor = page.nextCursor;
    more.hidden = !cursor;
    if (!rows.children.length) rows.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No workflows yet.')));
  };
  more.addEventListener('click', () => void load());
  await load();
  clear(
    main,
    heading('Workflows', h('a', { class: 'button primary', href: '#/workflows/new' }, 'New workflow')),
    h(
      'table',
      { class: 'list' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Id'), h('th', {}, 'Latest'), h('th', {}, 'Updated')),
      ),
      rows,
    ),
    more,
  );
}

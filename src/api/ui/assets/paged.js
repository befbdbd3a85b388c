// A filtered list paged with the API's cursor: Newer and Older buttons, back to the first page
// whenever the filters change. The runs and audit pages use it.
import { api, withQuery } from './api.js';
import { clear, h } from './dom.js';

/**
 * `GET path` with `filters()` and a cursor, 50 items a page, each item drawn by `row` into `rows`
 * (`empty` says so in a cell `columns` wide when none match). `load` shows the current page again,
 * `restart` the first one; `onFirstPage` tells whether live refreshing may redraw it.
 */
export function pagedList(ctx, { path, filters, row, columns, empty }) {
  const rows = h('tbody');
  const pager = h('div', { class: 'actions' });
  const cursors = [undefined];
  const load = async () => {
    const page = await api('GET', withQuery(path, { ...filters(), limit: 50, cursor: cursors.at(-1) }));
    if (!ctx.live) return;
    clear(
      rows,
      page.items.length ? page.items.map(row) : h('tr', {}, h('td', { colspan: columns, class: 'muted' }, empty)),
    );
    clear(
      pager,
      cursors.length > 1 && h('button', { type: 'button', onclick: () => (cursors.pop(), void load()) }, 'Newer'),
      page.nextCursor &&
        h('button', { type: 'button', onclick: () => (cursors.push(page.nextCursor), void load()) }, 'Older'),
    );
  };
  const restart = () => {
    cursors.splice(1);
    return load();
  };
  return { rows, pager, load, restart, onFirstPage: () => cursors.length === 1 };
}

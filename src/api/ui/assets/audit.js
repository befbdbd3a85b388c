// The audit trail: who changed what, newest first. Values of the fields a call sent are never
// kept, so only their names show.
import { clear, h, heading, time } from './dom.js';
import { pagedList } from './paged.js';

const FILTERS = [
  ['subject', 'Subject', 'text'],
  ['target', 'Target id', 'text'],
  ['since', 'After', 'datetime-local'],
  ['until', 'Before', 'datetime-local'],
];

/** Audit events filtered by subject, target and time, paged with the API's cursor. */
export async function auditView(main, ctx) {
  const q = ctx.query;
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filters' },
    FILTERS.map(([name, label, type]) => h('label', {}, label, h('input', { type, name, value: q.get(name) ?? '' }))),
  );
  const filters = () => {
    const data = new FormData(form);
    const iso = (v) => (v ? new Date(v).toISOString() : undefined);
    return {
      subject: data.get('subject')?.trim(),
      target: data.get('target')?.trim(),
      since: iso(data.get('since')),
      until: iso(data.get('until')),
    };
  };
  const { rows, pager, restart } = pagedList(ctx, {
    path: '/v1/audit',
    filters,
    row,
    columns: 6,
    empty: 'No events match.',
  });
  form.addEventListener('change', () => {
    const kept = [...new FormData(form).entries()].filter(([, v]) => v);
    history.replaceState(null, '', `#/audit${kept.length ? `?${new URLSearchParams(kept)}` : ''}`);
    void restart();
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  await restart();
  clear(
    main,
    heading('Audit'),
    form,
    h(
      'table',
      { class: 'list audit' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Time', 'Subject', 'Action', 'Target', 'Outcome', 'Fields'].map((t) => h('th', {}, t)),
        ),
      ),
      rows,
    ),
    pager,
  );
}

function row(e) {
  return h(
    'tr',
    { 'data-audit': e.id },
    h('td', {}, time(e.at)),
    h('td', {}, e.subject),
    h('td', { class: 'mono' }, `${e.method} ${e.route}`),
    h('td', { class: 'mono' }, e.targetId ?? '—'),
    h('td', {}, h('span', { class: e.status < 400 ? 'badge s-completed' : 'badge s-failed' }, String(e.status))),
    h('td', { title: `request ${e.requestId}` }, e.fields.length ? e.fields.join(', ') : '—'),
  );
}

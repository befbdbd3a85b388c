import { api, enc } from './api.js';
import { badge, clear, duration, h, heading, span, time } from './dom.js';
import { pagedList } from './paged.js';

const STATUSES = ['running', 'waiting', 'completed', 'failed', 'cancelled', 'timed_out', 'terminated'];
const SOURCES = ['api', 'webhook', 'schedule', 'kafka', 'rerun', 'failure'];

/** Runs, newest first, filtered by status, source, workflow and start time; refreshed live. */
export async function runsView(main, ctx) {
  const { items: workflows } = await api('GET', '/v1/workflows?limit=100');
  const names = new Map(workflows.map((w) => [w.id, w.name]));
  const q = ctx.query;
  const select = (name, label, options) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { name },
        h('option', { value: '' }, 'any'),
        options.map(([v, text]) => h('option', { value: v, selected: q.get(name) === v }, text)),
      ),
    );
  const when = (name, label) =>
    h('label', {}, label, h('input', { type: 'datetime-local', name, value: q.get(name) ?? '' }));
  const live = h('input', { type: 'checkbox', name: 'live', checked: q.get('live') !== 'off' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filters' },
    select(
      'status',
      'Status',
      STATUSES.map((s) => [s, s]),
    ),
    select(
      'source',
      'Source',
      SOURCES.map((s) => [s, s]),
    ),
    select(
      'workflowId',
      'Workflow',
      workflows.map((w) => [w.id, w.name]),
    ),
    when('since', 'Started after'),
    when('until', 'Started before'),
    h('label', { class: 'check' }, live, 'Live'),
  );
  const filters = () => {
    const data = new FormData(form);
    const iso = (v) => (v ? new Date(v).toISOString() : undefined);
    return {
      status: data.get('status'),
      source: data.get('source'),
      workflowId: data.get('workflowId'),
      since: iso(data.get('since')),
      until: iso(data.get('until')),
    };
  };
  const { rows, pager, restart, load, onFirstPage } = pagedList(ctx, {
    path: '/v1/runs',
    filters,
    row: (r) => row(r, names),
    columns: 7,
    empty: 'No runs match.',
  });
  form.addEventListener('change', () => {
    const data = new FormData(form);
    const kept = [...data.entries()].filter(([k, v]) => v && k !== 'live');
    if (!live.checked) kept.push(['live', 'off']);
    history.replaceState(null, '', `#/runs${kept.length ? `?${new URLSearchParams(kept)}` : ''}`);
    void restart();
  });
  ctx.every(2000, () => live.checked && onFirstPage() && load());
  await restart();
  clear(
    main,
    heading('Runs'),
    form,
    h(
      'table',
      { class: 'list runs' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Run', 'Workflow', 'Status', 'Source', 'Started', 'Duration', 'Problem'].map((t) => h('th', {}, t)),
        ),
      ),
      rows,
    ),
    pager,
  );
}

function row(r, names) {
  return h(
    'tr',
    { 'data-run': r.id },
    h('td', { class: 'mono' }, h('a', { href: `#/runs/${enc(r.id)}` }, r.id)),
    h(
      'td',
      {},
      h('a', { href: `#/workflows/${enc(r.workflowId)}` }, names.get(r.workflowId) ?? r.workflowId),
      ` v${r.version}`,
    ),
    h('td', {}, badge(r.status)),
    h('td', {}, r.source?.type ?? '—'),
    h('td', {}, time(r.startedAt)),
    h('td', {}, duration(span(r.startedAt, r.endedAt))),
    h('td', {}, r.problem ? h('span', { class: 'error', title: r.problem.message ?? '' }, r.problem.cause) : ''),
  );
}

// One run: its steps on a timeline (nested branches and items), refreshed until it ends.
import { api, enc } from './api.js';
import { actionButton, badge, clear, code, duration, h, heading, isTerminal, span, time, toast } from './dom.js';

export async function runView(main, ctx) {
  const [id] = ctx.params;
  const open = new Set();
  let name;
  const header = h('div');
  const body = h('div');
  const render = async () => {
    const run = await api('GET', `/v1/runs/${enc(id)}`);
    if (!ctx.live) return run;
    name ??= await api('GET', `/v1/workflows/${enc(run.workflowId)}`).then(
      (w) => w.name,
      () => run.workflowId,
    );
    clear(header, summary(run, name));
    clear(
      body,
      timeline(run.steps, run, open, ''),
      run.result !== undefined && run.result !== null && h('section', {}, h('h2', {}, 'Result'), code(run.result)),
      run.error ? h('section', {}, h('h2', {}, 'Error'), code(run.error)) : null,
    );
    return run;
  };
  const first = await render();
  clear(main, header, h('h2', {}, 'Steps'), body);
  // A parked run is `failed` but not over: it goes on once its dead letter is re-driven.
  const over = (run) => isTerminal(run.status) && !run.parked;
  if (!over(first)) ctx.every(1000, async () => over(await render()) && ctx.stop());
}

function summary(run, name) {
  const canCancel = ['running', 'waiting'].includes(run.status);
  return h(
    'div',
    {},
    heading(
      h('span', {}, 'Run ', h('span', { class: 'mono' }, run.id)),
      h(
        'a',
        { class: 'button', href: run.links.temporalUi, target: '_blank', rel: 'noopener noreferrer' },
        'Open in Temporal Web UI ↗',
      ),
      actionButton('Rerun', async () => {
        const res = await api('POST', `/v1/runs/${enc(run.id)}/rerun`, { version: 'same' });
        location.hash = `#/runs/${enc(res.runId)}`;
      }),
      canCancel &&
        actionButton(
          'Cancel',
          async () => (await api('POST', `/v1/runs/${enc(run.id)}/cancel`), toast('Cancel requested')),
        ),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact(
        'Status',
        h('span', { id: 'run-status' }, badge(run.status)),
        run.parked &&
          h(
            'span',
            { id: 'run-parked' },
            ' Parked — waiting for re-drive (',
            h('a', { href: `#/dead-letters?id=${enc(run.parked.deadLetterId)}` }, 'its dead letter'),
            ')',
          ),
      ),
      fact(
        'Workflow',
        h('a', { href: `#/workflows/${enc(run.workflowId)}` }, name),
        ` v${run.version}`,
        run.movedFrom && h('span', { id: 'run-moved-from' }, ` (moved from v${run.movedFrom})`),
      ),
      fact(
        'Source',
        run.source
          ? [
              run.source.type,
              run.source.triggerId ? ` (${run.source.triggerId})` : '',
              run.source.failedRunId
                ? [' of ', h('a', { href: `#/runs/${enc(run.source.failedRunId)}` }, run.source.failedRunId)]
                : '',
            ]
          : '—',
      ),
      fact('Started', time(run.startedAt)),
      fact('Ended', time(run.endedAt)),
      // Parked, the run is not running: its duration stops where it parked.
      run.parked
        ? fact('Duration', duration(span(run.startedAt, run.parked.since)), ' until parked ', time(run.parked.since))
        : fact('Duration', duration(span(run.startedAt, run.endedAt))),
    ),
    run.problem &&
      h(
        'div',
        { class: 'alert', role: 'alert' },
        `Workflow tasks keep failing since ${run.problem.since} (${run.problem.attempts} attempts): ${run.problem.cause}`,
      ),
  );
}

const fact = (term, ...value) => [h('dt', {}, term), h('dd', {}, value)];

function timeline(steps, run, open, path) {
  if (!Array.isArray(steps) || !steps.length) return h('p', { class: 'muted' }, 'No steps yet.');
  const start = Date.parse(run.startedAt);
  const end = run.endedAt ?? run.parked?.since;
  const total = Math.max(1, (end ? Date.parse(end) : Date.now()) - start);
  return h(
    'ol',
    { class: 'timeline' },
    steps.map((s) => step(s, run, open, `${path}/${s.id}`, start, total)),
  );
}

function step(s, run, open, path, start, total) {
  const took = span(s.startedAt, s.endedAt);
  const left = s.startedAt ? ((Date.parse(s.startedAt) - start) / total) * 100 : 0;
  const width = took === undefined ? 0 : Math.max(0.5, (took / total) * 100);
  const details = h(
    'details',
    { open: open.has(path), ontoggle: (e) => (e.target.open ? open.add(path) : open.delete(path)) },
    h(
      'summary',
      {},
      h('span', { class: 'step-id' }, s.id),
      h('span', { class: 'type' }, s.type),
      badge(s.status),
      h('span', { class: 'muted' }, `${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`),
      h('span', { class: 'muted' }, duration(took)),
      h(
        'span',
        { class: 'bar', 'aria-hidden': 'true' },
        h('span', {
          class: `fill s-${s.status}`,
          style: { marginLeft: `${Math.min(left, 99.5)}%`, width: `${Math.min(width, 100 - Math.min(left, 99.5))}%` },
        }),
      ),
    ),
    h(
      'div',
      { class: 'step-body' },
      h('p', { class: 'muted' }, 'started ', time(s.startedAt), ' · ended ', time(s.endedAt)),
      s.error ? [h('h3', {}, 'Error'), code(s.error)] : null,
      s.output !== undefined && s.output !== null ? [h('h3', {}, 'Output'), code(s.output)] : null,
    ),
  );
  const children = (s.children ?? []).map((c) => {
    const childPath = `${path}[${c.key}]`;
    return h(
      'li',
      { class: 'child' },
      h(
        'details',
        { open: open.has(childPath), ontoggle: (e) => (e.target.open ? open.add(childPath) : open.delete(childPath)) },
        h('summary', {}, h('span', { class: 'step-id' }, c.key), badge(c.status)),
        timeline(c.steps, run, open, childPath),
      ),
    );
  });
  return h(
    'li',
    { class: `step s-${s.status}`, 'data-step': s.id },
    details,
    children.length ? h('ol', { class: 'children' }, children) : null,
  );
}

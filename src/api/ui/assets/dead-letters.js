// Open dead letters grouped by workflow, step, error code and HTTP status; re-drive or discard
// one, or re-drive a whole group.
import { api, enc, withQuery } from './api.js';
import { actionButton, clear, code, h, heading, time, toast } from './dom.js';

export async function deadLettersView(main, ctx) {
  const body = h('div');
  // `#/dead-letters?id=…` (a parked run's link): that dead letter, marked.
  const wanted = ctx.query.get('id');
  const render = async () => {
    const [{ items }, { items: workflows }] = await Promise.all([
      api('GET', '/v1/dead-letters?limit=200'),
      api('GET', '/v1/workflows?limit=100'),
    ]);
    if (!ctx.live) return;
    const names = new Map(workflows.map((w) => [w.id, w.name]));
    const groups = new Map();
    for (const d of items) {
      const key = [d.workflowId, d.stepId, d.errorCode, d.httpStatus ?? ''].join('\u0000');
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    clear(
      body,
      groups.size
        ? [...groups.values()].map((list) => group(list, names, render, wanted))
        : h('p', { class: 'muted' }, 'No open dead letters.'),
    );
  };
  await render();
  ctx.every(5000, render);
  clear(main, heading('Dead letters'), body);
  body.querySelector('li.wanted')?.scrollIntoView({ block: 'center' });
}

function group(list, names, render, wanted) {
  const first = list[0];
  const filter = {
    workflowId: first.workflowId,
    stepId: first.stepId,
    errorCode: first.errorCode,
    ...(first.httpStatus ? { httpStatus: first.httpStatus } : {}),
  };
  return h(
    'section',
    { class: 'panel group', 'data-group': `${first.workflowId}/${first.stepId}/${first.errorCode}` },
    h(
      'div',
      { class: 'heading' },
      h(
        'h2',
        {},
        h('a', { href: `#/workflows/${enc(first.workflowId)}` }, names.get(first.workflowId) ?? first.workflowId),
        ' · step ',
        h('code', {}, first.stepId),
        ' · ',
        h('code', {}, first.errorCode),
        first.httpStatus ? ` · HTTP ${first.httpStatus}` : '',
        h('span', { class: 'count' }, String(list.length)),
      ),
      h(
        'div',
        { class: 'actions' },
        actionButton(`Re-drive all ${list.length}`, async () => {
          await api('POST', '/v1/dead-letters/redrive', filter);
          toast('Re-driving the group');
          await render();
        }),
      ),
    ),
    h(
      'ul',
      { class: 'letters' },
      list.map((d) => letter(d, render, d.id === wanted)),
    ),
  );
}

function letter(d, render, wanted) {
  let armed = false;
  const discard = actionButton('Discard', async () => {
    // Discarding ends the run as failed: the first press arms, the second one does it.
    if (!armed) {
      armed = true;
      discard.textContent = 'Confirm discard';
      discard.classList.add('danger');
      return;
    }
    await api('DELETE', withQuery(`/v1/dead-letters/${enc(d.id)}`, { reason: 'discarded from the console' }));
    toast('Discarded');
    await render();
  });
  return h(
    'li',
    { 'data-dead-letter': d.id, ...(wanted ? { class: 'wanted' } : {}) },
    h(
      'div',
      { class: 'letter-head' },
      h('a', { class: 'mono', href: `#/runs/${enc(d.runId)}` }, d.runId),
      h(
        'span',
        { class: 'muted' },
        ` v${d.version} · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · `,
        time(d.createdAt),
      ),
      h(
        'span',
        { class: 'actions' },
        actionButton(
          'Re-drive',
          async () => {
            await api('POST', `/v1/dead-letters/${enc(d.id)}/redrive`);
            toast('Re-driven: the step runs again');
            await render();
          },
          { class: 'primary' },
        ),
        discard,
      ),
    ),
    h('details', {}, h('summary', {}, errorText(d.error)), code(d.error)),
  );
}

const errorText = (e) => (e && typeof e === 'object' && typeof e.message === 'string' ? e.message : 'error');

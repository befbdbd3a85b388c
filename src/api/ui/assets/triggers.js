// Schedules: settings, the next fire times Temporal computed, pause, resume, fire now.
import { api, enc } from './api.js';
import { actionButton, clear, h, heading, time, toast } from './dom.js';

export async function triggersView(main, ctx) {
  const { items: workflows } = await api('GET', '/v1/workflows?limit=100');
  const sections = [];
  const body = h('div');
  const render = async () => {
    sections.length = 0;
    for (const w of workflows) {
      const { items } = await api('GET', `/v1/workflows/${enc(w.id)}/triggers`);
      if (items.length)
        sections.push(
          h(
            'section',
            {},
            h('h2', {}, h('a', { href: `#/workflows/${enc(w.id)}?tab=Schedules` }, w.name)),
            await triggerCards(items, render),
          ),
        );
    }
    if (ctx.live)
      clear(
        body,
        sections.length
          ? sections
          : h('p', { class: 'muted' }, 'No schedules. Add one from a workflow’s Schedules tab.'),
      );
  };
  await render();
  clear(main, heading('Schedules'), body);
}

/** A card per trigger, with its next fire times (one detail request each). */
export async function triggerCards(triggers, render) {
  const details = await Promise.all(triggers.map((t) => api('GET', `/v1/triggers/${enc(t.id)}`)));
  return h(
    'ul',
    { class: 'cards' },
    details.map((t) => card(t, render)),
  );
}

function card(t, render) {
  const action = t.paused ? 'resume' : 'pause';
  return h(
    'li',
    { class: 'panel trigger', 'data-trigger': t.id },
    h(
      'div',
      { class: 'heading' },
      h(
        'h3',
        {},
        t.type === 'kafka' ? `Kafka topic ${t.topic}` : t.cron ? `cron ${t.cron}` : `every ${t.every}`,
        t.timezone ? ` (${t.timezone})` : '',
      ),
      h('span', { class: `badge ${t.paused ? 's-paused' : 's-running'}` }, t.paused ? 'paused' : 'active'),
    ),
    h(
      'p',
      { class: 'muted' },
      t.overlap ? `overlap ${t.overlap} · ` : '',
      `version ${t.version ?? 'latest'} · `,
      h('span', { class: 'mono' }, t.scheduleId ?? t.id),
    ),
    h('h4', {}, 'Next fire times'),
    t.nextFireTimes?.length
      ? h(
          'ol',
          { class: 'fire-times' },
          t.nextFireTimes.slice(0, 5).map((at) => h('li', {}, time(at))),
        )
      : h('p', { class: 'muted' }, t.paused ? 'None while paused.' : 'None.'),
    h(
      'div',
      { class: 'actions' },
      actionButton(t.paused ? 'Resume' : 'Pause', async () => {
        await api('POST', `/v1/triggers/${enc(t.id)}/${action}`);
        toast(t.paused ? 'Resumed' : 'Paused');
        await render();
      }),
      actionButton('Run now', async () => (await api('POST', `/v1/triggers/${enc(t.id)}/run`), toast('Fired once'))),
    ),
  );
}

/** Adds a schedule: `every` ("15m") or a cron expression. */
export function scheduleForm(workflowId, render) {
  const spec = h('input', {
    name: 'spec',
    placeholder: '15m or 0 9 * * 1-5',
    required: true,
    'aria-label': 'Every (duration) or cron expression',
  });
  const form = h(
    'form',
    { class: 'filters' },
    h('label', {}, 'New schedule', spec),
    h('button', { type: 'submit' }, 'Add schedule'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = spec.value.trim();
    const body = /\s/.test(value) ? { type: 'schedule', cron: value } : { type: 'schedule', every: value };
    try {
      await api('POST', `/v1/workflows/${enc(workflowId)}/triggers`, body);
      toast('Schedule added');
      await render();
    } catch (err) {
      toast(err.message, 'error');
    }
  });
  return form;
}

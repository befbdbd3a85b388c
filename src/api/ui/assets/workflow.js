import { api, enc } from './api.js';
import { actionButton, clear, code, h, heading, time } from './dom.js';
import { diffView } from './diff.js';
import { editor } from './editor.js';
import { graph } from './graph.js';
import { scheduleForm, triggerCards } from './triggers.js';

const TEMPLATE = {
  name: 'Hello',
  steps: [{ id: 'greet', type: 'transform', config: { expression: "'Hello ' & trigger.name" } }],
};

export async function newWorkflowView(main) {
  const save = async (definition) => {
    const created = await api('POST', '/v1/workflows', definition);
    location.hash = `#/workflows/${enc(created.id)}`;
  };
  clear(main, heading('New workflow'), editor({ initial: TEMPLATE, saveLabel: 'Create workflow', onSave: save }));
}

/** One workflow: diagram, versions side by side, editor, schedules, and a way to run it. */
export async function workflowView(main, ctx) {
  const [id] = ctx.params;
  const wf = await api('GET', `/v1/workflows/${enc(id)}`);
  const tabs = {
    Diagram: () => graph(wf.definition),
    Definition: () => code(wf.definition),
    Versions: () => versions(wf),
    Edit: () =>
      editor({
        initial: wf.definition,
        saveLabel: 'Save as new version',
        onSave: async (d) => (await api('PUT', `/v1/workflows/${enc(id)}`, d), void reload()),
      }),
    Schedules: () => schedules(id),
    Run: () => runForm(id),
  };
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel', tabindex: 0 });
  const bar = h('div', { class: 'tabs', role: 'tablist' });
  const show = async (name) => {
    for (const b of bar.children) b.setAttribute('aria-selected', String(b.textContent === name));
    clear(panel, await tabs[name]());
  };
  const reload = () => workflowView(main, ctx);
  for (const name of Object.keys(tabs))
    bar.append(h('button', { type: 'button', role: 'tab', onclick: () => void show(name) }, name));
  bar.addEventListener('keydown', (e) => {
    const buttons = [...bar.children];
    const at = buttons.indexOf(document.activeElement);
    const to = e.key === 'ArrowRight' ? at + 1 : e.key === 'ArrowLeft' ? at - 1 : -2;
    if (at < 0 || to === -2) return;
    const next = buttons[(to + buttons.length) % buttons.length];
    next.focus();
    next.click();
  });
  clear(
    main,
    heading(wf.name, h('a', { class: 'button', href: `#/runs?workflowId=${enc(id)}` }, 'Runs')),
    h(
      'p',
      { class: 'muted' },
      h('span', { class: 'mono' }, wf.id),
      ` · v${wf.version} · created `,
      time(wf.createdAt),
      wf.archivedAt ? ' · archived' : '',
      failureHandling(wf.definition),
    ),
    bar,
    panel,
  );
  const asked = ctx.query.get('tab') ?? '';
  await show(Object.hasOwn(tabs, asked) ? asked : 'Diagram');
}

/** What the workflow does when a run fails or runs late: its failure workflow and its SLA. */
function failureHandling(definition) {
  const { onFailure, sla } = definition;
  return [
    onFailure && [
      ' · on failure ',
      h(
        'a',
        { id: 'wf-on-failure', href: `#/workflows/${enc(onFailure.workflowId)}` },
        onFailure.workflowId,
        onFailure.version ? ` v${onFailure.version}` : '',
      ),
    ],
    sla && [' · ', h('span', { id: 'wf-sla' }, `SLA ${sla.maxDuration} (${sla.onBreach.replaceAll('_', ' ')})`)],
  ];
}

async function versions(wf) {
  const latest = wf.version;
  const pick = (label, value) =>
    h(
      'label',
      {},
      `${label} `,
      h(
        'select',
        { 'aria-label': label },
        Array.from({ length: latest }, (_, i) => h('option', { value: i + 1, selected: i + 1 === value }, `v${i + 1}`)),
      ),
    );
  const left = pick('Left', Math.max(1, latest - 1));
  const right = pick('Right', latest);
  const out = h('div');
  const cache = new Map([[latest, wf.definition]]);
  const load = async (v) =>
    cache.get(v) ?? cache.set(v, (await api('GET', `/v1/workflows/${enc(wf.id)}/versions/${v}`)).definition).get(v);
  const render = async () => {
    const [a, b] = [Number(left.querySelector('select').value), Number(right.querySelector('select').value)];
    clear(
      out,
      h('div', { class: 'diff-head' }, h('strong', {}, `v${a}`), h('strong', {}, `v${b}`)),
      diffView(await load(a), await load(b)),
    );
  };
  for (const l of [left, right]) l.addEventListener('change', () => void render());
  await render();
  return h('div', {}, h('div', { class: 'filters' }, left, right), out);
}

async function schedules(id) {
  const box = h('div');
  const render = async () => {
    const list = await api('GET', `/v1/workflows/${enc(id)}/triggers`);
    clear(box, await triggerCards(list.items, render), scheduleForm(id, render));
  };
  await render();
  return box;
}

function runForm(id) {
  const payload = h('textarea', { class: 'code', rows: 8, 'aria-label': 'Trigger payload (JSON)', id: 'payload' });
  payload.value = '{}';
  const run = actionButton(
    'Run now',
    async () => {
      const res = await api('POST', `/v1/workflows/${enc(id)}/runs`, JSON.parse(payload.value || '{}'));
      location.hash = `#/runs/${enc(res.runId)}`;
    },
    { class: 'primary' },
  );
  return h('div', {}, h('label', { for: 'payload' }, 'Trigger payload'), payload, h('div', { class: 'actions' }, run));
}

// The definition drawn as boxes and arrows: steps top to bottom, branches side by side, jumps
// (next, choice cases, onError, onTimeout) as labelled links to their target box.
import { h } from './dom.js';

const ENDS_FLOW = ['choice', 'succeed', 'fail'];

export function graph(definition, statuses = new Map()) {
  const root = h('div', { class: 'graph', role: 'group', 'aria-label': 'Workflow diagram' });
  // Events that cancel the run wherever it is: a note above the steps.
  for (const c of definition.cancelOn ?? [])
    root.append(h('div', { class: 'node-guard cancel-on' }, `cancelled by event ${c.name} with key ${c.key}`));
  root.append(column(definition.steps ?? [], statuses, root));
  return root;
}

function column(steps, statuses, root) {
  const list = h('ol', { class: 'flow' });
  steps.forEach((step, i) => {
    const falls = i < steps.length - 1 && !step.next && !ENDS_FLOW.includes(step.type);
    list.append(h('li', { class: falls ? 'falls' : '' }, node(step, statuses, root)));
  });
  return list;
}

function node(step, statuses, root) {
  const status = statuses.get(step.id);
  const box = h(
    'div',
    { class: `node t-${step.type}${status ? ` s-${status}` : ''}`, 'data-step': step.id },
    h('div', { class: 'node-head' }, h('strong', {}, step.id), h('span', { class: 'type' }, step.type)),
    describe(step) && h('div', { class: 'node-body mono' }, describe(step)),
    step.when && h('div', { class: 'node-guard' }, `only when ${step.when}`),
  );
  const jumps = edges(step);
  if (jumps.length) {
    box.append(
      h(
        'ul',
        { class: 'jumps' },
        jumps.map(([label, to]) =>
          h(
            'li',
            {},
            h('button', { type: 'button', class: 'link', onclick: () => focusStep(root, to) }, `→ ${to}`),
            ' ',
            h('span', { class: 'muted' }, label),
          ),
        ),
      ),
    );
  }
  if (step.type === 'parallel')
    box.append(
      h(
        'div',
        { class: 'branches' },
        (step.branches ?? []).map((b, i) =>
          h(
            'div',
            { class: 'branch' },
            h('div', { class: 'branch-label' }, `branch ${i + 1}`),
            column(b, statuses, root),
          ),
        ),
      ),
    );
  if (step.type === 'approval' && step.notify)
    box.append(
      h(
        'div',
        { class: 'branches' },
        h(
          'div',
          { class: 'branch' },
          h('div', { class: 'branch-label' }, 'notify, then wait for approve or reject'),
          column(step.notify, statuses, root),
        ),
      ),
    );
  if (step.type === 'foreach')
    box.append(
      h(
        'div',
        { class: 'branches' },
        h(
          'div',
          { class: 'branch' },
          h('div', { class: 'branch-label' }, `each of ${step.items}`),
          column(step.steps ?? [], statuses, root),
        ),
      ),
    );
  return box;
}

function edges(step) {
  const out = [];
  if (step.next) out.push(['next', step.next]);
  for (const c of step.cases ?? []) out.push([`when ${c.when}`, c.next]);
  if (step.default) out.push(['otherwise', step.default]);
  if (step.onError && step.onError !== 'continue') out.push(['on error', step.onError]);
  if (step.onTimeout) out.push(['on timeout', step.onTimeout]);
  return out;
}

function describe(step) {
  const c = step.config ?? {};
  switch (step.type) {
    case 'http':
    case 'webhook':
      return `${c.method ?? 'GET'} ${c.url ?? ''}`;
    case 'delay':
      return c.duration ? `wait ${c.duration}` : `until ${c.until}`;
    case 'transform':
      return c.expression;
    case 'email':
      return `to ${c.to ?? ''}: ${c.subject ?? ''}`;
    case 'wait_for_event': {
      const names = Array.isArray(c.anyOf) ? `any of ${c.anyOf.join(', ')}` : `event ${c.name ?? ''}`;
      return `${names}${c.key ? ` by key ${c.key}` : ''}${c.timeout ? ` (timeout ${c.timeout})` : ''}`;
    }
    case 'subworkflow':
      return `workflow ${c.workflowId ?? ''}`;
    case 'approval':
      return `approve within ${step.timeout ?? ''}: ${c.message ?? ''}`;
    case 'respond':
      return `answer ${c.status ?? 200} to the waiting caller`;
    case 'fail':
      return c.error ?? c.message;
    default:
      return step.connection ? `via ${step.connection}` : undefined;
  }
}

function focusStep(root, id) {
  const target = root.querySelector(`[data-step="${CSS.escape(id)}"]`);
  if (!target) return;
  target.scrollIntoView({ block: 'center', behavior: 'smooth' });
  target.classList.add('flash');
  setTimeout(() => target.classList.remove('flash'), 1200);
}

import { nestedBlocks, type Step } from './schema.js';
import type { Definition } from './schema.js';

/**
 * The definition as a Mermaid flowchart: steps as nodes (shape by kind), routes as edges (choice
 * cases labelled with their condition, errors dashed), parallel branches and foreach bodies as
 * subgraphs, an approval's notify steps as a subgraph it waits after.
 * @example toMermaid({ name: 'x', steps: [{ id: 'a', type: 'delay', config: { duration: '1s' } }] })
 */
export function toMermaid(definition: Definition): string {
  const lines = ['flowchart TD', '  start(((start)))'];
  const first = definition.steps[0];
  if (first) lines.push(`  start --> ${node(first.id)}`);
  block(definition.steps, lines, '  ', 'done');
  // An event under a `cancelOn` key ends the run from wherever it is.
  (definition.cancelOn ?? []).forEach((c, i) =>
    lines.push(`  cancel_${i}>"cancel on ${escape(c.name)} by key ${escape(c.key)}"] -.->|cancelled| done`),
  );
  lines.push('  done(((end)))');
  return `${lines.join('\n')}\n`;
}

function block(steps: Step[], lines: string[], indent: string, exit: string): void {
  steps.forEach((step, i) => {
    lines.push(`${indent}${shape(step)}`);
    const nested = nestedBlocks(step);
    nested.forEach((b, k) => {
      const label = blockLabel(step, k);
      const id = `${node(step.id)}_${k}`;
      lines.push(`${indent}subgraph ${id} ["${escape(label)}"]`);
      block(b.steps, lines, `${indent}  `, `${node(step.id)}_join`);
      lines.push(`${indent}end`);
      const firstNested = b.steps[0];
      if (firstNested) lines.push(`${indent}${node(step.id)} --> ${node(firstNested.id)}`);
    });
    const following = i + 1 < steps.length ? node(steps[i + 1]?.id ?? '') : exit;
    const from = nested.length > 0 ? `${node(step.id)}_join` : node(step.id);
    if (nested.length > 0) lines.push(`${indent}${from}((" "))`);
    edges(step, from, following, exit).forEach((e) => lines.push(`${indent}${e}`));
  });
}

function edges(step: Step, from: string, following: string, exit: string): string[] {
  const out: string[] = [];
  if (step.type === 'succeed' || step.type === 'fail') out.push(`${from} --> ${exit}`);
  else if (step.type === 'choice') {
    step.cases.forEach((c) => out.push(`${from} -->|"${escape(c.when)}"| ${node(c.next)}`));
    out.push(`${from} -->|default| ${step.default ? node(step.default) : following}`);
  } else out.push(`${from} --> ${step.next ? node(step.next) : following}`);
  if (step.when !== undefined)
    out.push(`${node(step.id)} -.->|"skip unless ${escape(step.when)}"| ${step.next ? node(step.next) : following}`);
  if (step.onError !== undefined)
    out.push(`${from} -.->|error| ${step.onError === 'continue' ? following : node(step.onError)}`);
  if ((step.type === 'wait_for_event' || step.type === 'approval') && step.onTimeout)
    out.push(`${from} -.->|timeout| ${node(step.onTimeout)}`);
  return out;
}

function shape(step: Step): string {
  const label = `"${escape(step.id)}<br/><small>${step.type}</small>"`;
  const id = node(step.id);
  switch (step.type) {
    case 'choice':
      return `${id}{${label}}`;
    case 'delay':
    case 'wait_for_event':
      return `${id}([${label}])`;
    case 'approval':
      return `${id}{{${label}}}`;
    case 'respond':
      return `${id}>${label}]`;
    case 'succeed':
    case 'fail':
      return `${id}((${label}))`;
    case 'parallel':
    case 'foreach':
    case 'subworkflow':
      return `${id}[[${label}]]`;
    default:
      return `${id}[${label}]`;
  }
}

function blockLabel(step: Step, k: number): string {
  if (step.type === 'parallel') return `branch ${k}`;
  if (step.type === 'approval') return 'notify, then wait for approve or reject';
  return `for each item of ${step.type === 'foreach' ? step.items : ''}`;
}

/** Mermaid ids cannot hold '-'; step ids are [a-z0-9_-]. */
const node = (id: string) => `s_${id.replace(/-/g, '__')}`;
const escape = (text: string) => text.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'));

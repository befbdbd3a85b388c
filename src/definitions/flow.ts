import type { DefinitionProblem } from '../shared/errors.js';
import { nestedBlocks, type Step } from './schema.js';

/** Leaving the block: the end of its list, or a `succeed`/`fail`. */
const EXIT = -1;

/**
 * Checks the routes of a block of steps and, recursively, of its nested blocks: every route
 * points at a step of the same block, every step can be reached from the first, and every loop
 * has a way out (a loop with none would only end at `maxSteps`).
 */
export function checkFlow(steps: Step[], pointer: string, problems: DefinitionProblem[]): void {
  const position = new Map(steps.map((s, i) => [s.id, i]));
  const edges = steps.map((step, i) => successors(step, i, steps.length, position, `${pointer}/${i}`, problems));
  reachability(steps, edges, pointer, problems);
  loopsWithoutExit(steps, edges, pointer, problems);
  steps.forEach((step, i) => {
    for (const block of nestedBlocks(step)) checkFlow(block.steps, `${pointer}/${i}${block.pointer}`, problems);
  });
}

function successors(
  step: Step,
  i: number,
  length: number,
  position: Map<string, number>,
  pointer: string,
  problems: DefinitionProblem[],
): number[] {
  const out: number[] = [];
  const route = (field: string, target: string | undefined) => {
    if (target === undefined || target === 'continue') return;
    const j = position.get(target);
    if (j === undefined)
      problems.push({
        pointer: `${pointer}/${field}`,
        message: `'${target}' is not a step of this block (routes cannot leave or enter a branch or foreach)`,
      });
    else out.push(j);
  };
  route('next', step.next);
  route('onError', step.onError);
  if (step.type === 'choice') {
    step.cases.forEach((c, k) => route(`cases/${k}/next`, c.next));
    route('default', step.default);
  }
  if (step.type === 'wait_for_event' || step.type === 'approval') route('onTimeout', step.onTimeout);

  // Without `next` a step continues with the following one, as a skipped (`when`) step does too;
  // a choice with a `default` always routes.
  const routesItself =
    step.next !== undefined || (step.type === 'choice' && step.default !== undefined && step.when === undefined);
  if (step.type === 'succeed' || step.type === 'fail') out.push(EXIT);
  else if (!routesItself) out.push(i + 1 < length ? i + 1 : EXIT);
  return out;
}

function reachability(steps: Step[], edges: number[][], pointer: string, problems: DefinitionProblem[]): void {
  const reached = new Set<number>([0]);
  const queue = [0];
  for (let i = queue.pop(); i !== undefined; i = queue.pop()) {
    for (const j of edges[i] ?? []) {
      if (j === EXIT || reached.has(j)) continue;
      reached.add(j);
      queue.push(j);
    }
  }
  steps.forEach((step, i) => {
    if (!reached.has(i))
      problems.push({ pointer: `${pointer}/${i}`, message: `step '${step.id}' can never be reached` });
  });
}

/** Tarjan's strongly connected components; a cycle none of whose edges leaves it never ends. */
function loopsWithoutExit(steps: Step[], edges: number[][], pointer: string, problems: DefinitionProblem[]): void {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  let counter = 0;

  const visit = (v: number): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges[v] ?? []) {
      if (w === EXIT) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: number[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    const members = new Set(component);
    const isLoop = component.length > 1 || (edges[v] ?? []).includes(v);
    const hasExit = component.some((n) => (edges[n] ?? []).some((w) => !members.has(w)));
    if (isLoop && !hasExit) {
      const ids = component.map((n) => steps[n]?.id).reverse();
      problems.push({
        pointer: `${pointer}/${Math.min(...component)}`,
        message: `the loop ${ids.join(' → ')} has no way out (add a choice case or a route that leaves it)`,
      });
    }
  };
  steps.forEach((_, i) => {
    if (!index.has(i)) visit(i);
  });
}

import { isObject } from '../../shared/json-values.js';
import { parseCached } from './parse-cache.js';

/**
 * What `evaluateNow` and `renderNow` give when only JSONata itself, which is asynchronous all the
 * way down, can evaluate an expression: then `evaluate` or `render` does.
 */
export const NEEDS_JSONATA: unique symbol = Symbol('needs jsonata');

/**
 * An expression's value without a promise, or NEEDS_JSONATA: a plain path needs no parsing; else
 * the parsed form is evaluated at once where it stays within the everyday part of JSONata.
 */
export function evaluateFastPath(expression: string, scope: unknown): unknown {
  const plain = PLAIN_PATH.test(expression) ? walk(expression.split('.'), scope) : NEEDS_JSONATA;
  if (plain !== NEEDS_JSONATA) return plain;
  return evaluateAtOnce(parseCached(expression).ast() as unknown as Node, scope);
}

/** A field name JSONata reads as a name: not one of its keywords. */
const NAME = '(?!(and|or|in|true|false|null|function)(\\.|$))[A-Za-z_]\\w*';
const PLAIN_PATH = new RegExp(`^${NAME}(\\.${NAME})*$`);

/** What `evaluateAtOnce` reads of JSONata's parsed form (the published type leaves some of it out). */
interface Node {
  type: string;
  value?: unknown;
  steps?: Node[];
  expressions?: Node[];
  expression?: Node;
  condition?: Node;
  then?: Node;
  else?: Node;
  lhs?: Node | [Node, Node][];
  rhs?: Node;
}
const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
};
const ORDER: Record<string, (a: number | string, b: number | string) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};
const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const only = (node: Node, keys: string[]) => Object.keys(node).every((k) => keys.includes(k));

/** A path of field names through objects only; NEEDS_JSONATA where JSONata's rules for arrays or missing values would apply. */
function walk(names: string[], scope: unknown): unknown {
  let value = scope;
  for (const name of names) {
    if (!isObject(value)) return NEEDS_JSONATA;
    value = Object.hasOwn(value, name) ? value[name] : undefined;
  }
  return Array.isArray(value) || value === undefined ? NEEDS_JSONATA : value;
}

/**
 * The everyday part of JSONata (paths through objects, literals, object constructors, arithmetic,
 * comparisons, `and`/`or`, `? :`) evaluated at once, giving what JSONata gives; NEEDS_JSONATA for
 * anything else (arrays, functions, mixed types, missing values), which JSONata then evaluates.
 * JSONata itself is asynchronous all the way down, and in the workflow sandbox every promise
 * costs a captured stack trace: this keeps most expressions from making any.
 */
function evaluateAtOnce(node: Node, scope: unknown): unknown {
  const operand = (n: Node | [Node, Node][] | undefined) => {
    if (Array.isArray(n)) throw NEEDS_JSONATA;
    const v = n === undefined ? NEEDS_JSONATA : evaluateAtOnce(n, scope);
    if (v === NEEDS_JSONATA || v === undefined) throw NEEDS_JSONATA;
    return v;
  };
  try {
    switch (node.type) {
      case 'string':
      case 'number':
        return node.value;
      case 'value':
        return node.value === true || node.value === false || node.value === null ? node.value : NEEDS_JSONATA;
      case 'path': {
        const steps = node.steps ?? [];
        if (
          !only(node, ['type', 'steps', 'position']) ||
          steps.some((step) => step.type !== 'name' || !only(step, ['type', 'value', 'position']))
        )
          return NEEDS_JSONATA;
        return walk(
          steps.map((step) => String(step.value)),
          scope,
        );
      }
      case 'block':
        return node.expressions?.length === 1 ? operand(node.expressions[0]) : NEEDS_JSONATA;
      case 'condition': {
        const test = operand(node.condition);
        return typeof test === 'boolean' && node.else !== undefined
          ? operand(test ? node.then : node.else)
          : NEEDS_JSONATA;
      }
      case 'unary': {
        if (node.value === '-') {
          const v = operand(node.expression);
          return typeof v === 'number' ? -v : NEEDS_JSONATA;
        }
        if (node.value !== '{' || !only(node, ['type', 'value', 'position', 'lhs'])) return NEEDS_JSONATA;
        const object: Record<string, unknown> = {};
        if (!Array.isArray(node.lhs)) return NEEDS_JSONATA;
        for (const [key, value] of node.lhs) {
          if (key.type !== 'string' || Object.hasOwn(object, String(key.value))) return NEEDS_JSONATA;
          object[String(key.value)] = operand(value);
        }
        return object;
      }
      case 'binary': {
        const op = String(node.value);
        const [a, b] = [operand(node.lhs), operand(node.rhs)];
        const arithmetic = Object.hasOwn(ARITHMETIC, op) ? ARITHMETIC[op] : undefined;
        const order = Object.hasOwn(ORDER, op) ? ORDER[op] : undefined;
        if (arithmetic)
          return typeof a === 'number' && typeof b === 'number' && Number.isFinite(arithmetic(a, b))
            ? arithmetic(a, b)
            : NEEDS_JSONATA;
        if (order)
          return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')
            ? order(a, b)
            : NEEDS_JSONATA;
        if (op === '=' || op === '!=')
          return isPrimitive(a) && isPrimitive(b) ? (a === b) === (op === '=') : NEEDS_JSONATA;
        if (op === 'and' || op === 'or')
          return typeof a === 'boolean' && typeof b === 'boolean' ? (op === 'and' ? a && b : a || b) : NEEDS_JSONATA;
        if (op === '&') return typeof a === 'string' && typeof b === 'string' ? a + b : NEEDS_JSONATA;
        return NEEDS_JSONATA;
      }
      default:
        return NEEDS_JSONATA;
    }
  } catch (err) {
    if (err === NEEDS_JSONATA) return NEEDS_JSONATA;
    throw err;
  }
}

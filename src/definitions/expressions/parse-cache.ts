import jsonata from 'jsonata';
import { LinearRegExp } from '../linear-regex.js';
import { ENTRY, EXIT, onEntry, onExit } from './budgets.js';

/**
 * Parsed expressions, shared by the runs of a worker thread. Bounded in count and in the
 * characters of the expressions it holds (a parsed expression takes tens of times its length);
 * long expressions are parsed each time rather than kept.
 */
const cache = new Map<string, jsonata.Expression>();
const CACHE_MAX_ENTRIES = 2000;
const CACHE_MAX_CHARS = 1_000_000;
const CACHE_MAX_EXPRESSION = 4096;
let cachedChars = 0;

/** An expression parsed, with the budget hooks bound: from the cache when it holds it. */
export function parseCached(expression: string): jsonata.Expression {
  const hit = cache.get(expression);
  if (hit) return hit;
  // jsonata constructs its RegexEngine as it would RegExp; LinearRegExp gives what it reads of one.
  const compiled = jsonata(expression, { RegexEngine: LinearRegExp as unknown as RegExpConstructor });
  // jsonata's types know only string names; its evaluation hooks are bound under these symbols.
  compiled.assign(ENTRY as unknown as string, onEntry);
  compiled.assign(EXIT as unknown as string, onExit);
  if (expression.length > CACHE_MAX_EXPRESSION) return compiled;
  while (cache.size >= CACHE_MAX_ENTRIES || (cachedChars + expression.length > CACHE_MAX_CHARS && cache.size > 0)) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
    cachedChars -= oldest.length;
  }
  cache.set(expression, compiled);
  cachedChars += expression.length;
  return compiled;
}

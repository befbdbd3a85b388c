const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LOWER_U = 0x75;
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const CLOSERS = new Set([0x5d, 0x7d]); // ] }

/** What one pass over a JSON text found (see `scanJson`). */
export interface JsonScan {
  /** Arrays and objects nest deeper than the limit. */
  tooDeep: boolean;
  /** A string holds a `\u0000` or surrogate escape: it may be text PostgreSQL cannot store (see `unstorableText`). */
  suspectText: boolean;
}

/**
 * One pass over the characters of a JSON text (brackets inside strings do not count) that stops
 * at the first level too deep, noting on the way any escape that may make text PostgreSQL cannot
 * store. It never parses, so it is safe on any input, JSON or not.
 * @example scanJson('[[1]]', 1) // { tooDeep: true, suspectText: false }
 */
export function scanJson(text: string, max: number): JsonScan {
  let depth = 0;
  let inString = false;
  let suspectText = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) {
        if (!suspectText && text.charCodeAt(i + 1) === LOWER_U) suspectText = suspectEscape(text.slice(i + 2, i + 6));
        i++;
      } else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) inString = true;
    else if (OPENERS.has(ch)) {
      if (++depth > max) return { tooDeep: true, suspectText };
    } else if (CLOSERS.has(ch)) depth--;
  }
  return { tooDeep: false, suspectText };
}

/** `\u0000`, or a surrogate (`\uD800`–`\uDFFF`), which may stand alone. */
const suspectEscape = (hex: string): boolean => hex === '0000' || /^[dD][89a-fA-F]/.test(hex);

/**
 * Whether a JSON text nests arrays and objects deeper than `max`.
 * @example nestedDeeperThan('[[1]]', 1) // true
 */
export const nestedDeeperThan = (text: string, max: number): boolean => scanJson(text, max).tooDeep;

/**
 * The JSON pointer of the first string (value or key) PostgreSQL cannot store, if any: a NUL
 * character, which `text` and `jsonb` refuse, or a lone surrogate, which `jsonb` refuses (and
 * `text` would turn into U+FFFD). Recursive: call it on values whose depth is bounded.
 * @example unstorableText({ a: ['ok', 'x\u0000'] }) // '/a/1'
 */
export function unstorableText(value: unknown, pointer = ''): string | undefined {
  if (typeof value === 'string') return storable(value) ? undefined : pointer;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableText(value[i], `${pointer}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!storable(key)) return at;
    const found = unstorableText(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const storable = (s: string): boolean => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

/**
 * Finds secrets in text in the forms a server (or an error message) may echo them back in:
 * as they are in any letter case, JSON-escaped, percent-encoded the ways common libraries do it
 * (either hex case), hex, and base64 (standard and url-safe) whether the secret starts a base64
 * string or sits inside a longer encoded value. Every form is a literal, so one match costs
 * time linear in the text.
 */
export interface SecretMatcher {
  /** The text with every form of every secret replaced by `by`. */
  replace(text: string, by: string): string;
  /** Whether the text holds any form of any secret. */
  test(text: string): boolean;
}

// Shorter base64 fragments would match unrelated text too often.
const MIN_WHOLE = 4;
const MIN_CORE = 6;

/** A matcher for these secrets, or undefined when there are none. */
export function secretMatcher(secrets: readonly string[]): SecretMatcher | undefined {
  const present = [...new Set(secrets)].filter((s) => s.length > 0);
  if (present.length === 0) return undefined;
  // Case only matters to base64, so the textual forms share one case-insensitive pattern.
  const textual = pattern(present.flatMap(textualForms), 'gi');
  const base64 = pattern(present.flatMap(base64Forms), 'g');
  const patterns = [textual, base64].filter((p): p is RegExp => p !== undefined);
  return {
    replace: (text, by) => patterns.reduce((t, p) => t.replace(p, by), text),
    test: (text) => patterns.some((p) => text.search(p) !== -1),
  };
}

function pattern(forms: string[], flags: string): RegExp | undefined {
  // Longest first, so a longer encoding is not cut short by a form that is its prefix.
  const unique = [...new Set(forms)].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
  return unique.length === 0 ? undefined : new RegExp(unique.map(escapeRegExp).join('|'), flags);
}

const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

function textualForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const percentAll = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  // RFC 3986 unreserved characters stay; Python's quote(safe='') and Go's PathEscape do this.
  const rfc3986 = [...bytes]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
  const component = safe(() => encodeURIComponent(secret));
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    component,
    safe(() => encodeURI(secret)),
    component.replace(/%20/g, '+'),
    new URLSearchParams({ s: secret }).toString().slice(2),
    rfc3986,
    rfc3986.replace(/%20/g, '+'),
    percentAll,
    bytes.toString('hex'),
  ];
}

function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const whole = bytes.toString('base64');
  const forms: string[] = [whole, whole.replace(/=+$/, '')];
  // Inside a longer encoded value the secret starts at byte offset 0, 1 or 2 of a 3-byte group;
  // the characters that depend on its bytes alone are the same wherever the value sits.
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    forms.push(encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6)));
  }
  return forms
    .flatMap((f) => [f, f.replace(/\+/g, '-').replace(/\//g, '_')])
    .filter((f, i) => f.length >= (i < 4 ? MIN_WHOLE : MIN_CORE));
}

/** encodeURI throws on lone surrogates; such a secret then simply has no percent form. */
function safe(encode: () => string): string {
  try {
    return encode();
  } catch {
    return '';
  }
}

/**
 * What `$secret('…')` names. A bare name (`crm_token`) is the engine's own sealed store; a
 * reference with a colon names one of the tenant's external stores (`/v1/secret-stores`), a path
 * under that store's `pathPrefix`, an optional pinned version and the JSON field to read:
 * `vault-main:app/db#password`, `vault-main:app/db@3#password`, `aws-prod:prod/db#password`.
 * Pure: checked when a definition or connection is saved, and again where it is resolved.
 */
export type SecretReference =
  { kind: 'builtin'; name: string } | { kind: 'store'; store: string; path: string; version?: string; field: string };

/** A store's or a built-in secret's name. */
export const SECRET_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
/** One path segment: the characters AWS secret names allow, less `@` (which marks a version). */
const SEGMENT = /^[A-Za-z0-9_+=,.-]{1,128}$/;
const VERSION = /^[A-Za-z0-9_-]{1,64}$/;
const FIELD = /^[A-Za-z0-9_.-]{1,200}$/;
const MAX_PATH = 512;

/** A path of relative segments, or why it is not one (`..`, `.`, absolute, empty segments). */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'the path is empty';
  if (path.length > MAX_PATH) return `the path is longer than ${MAX_PATH} characters`;
  if (path.startsWith('/')) return 'the path is absolute; it is read under the store’s pathPrefix';
  const segments = path.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return "the path holds '.' or '..'";
  if (segments.some((s) => !SEGMENT.test(s)))
    return 'each path segment is 1-128 of A-Z a-z 0-9 _ + = , . - (no empty segment)';
  return undefined;
}

/**
 * Parses what `$secret()` was given.
 * @example parseSecretReference('vault-main:app/db@3#password') // { ok: true, ref: { kind: 'store', store: 'vault-main', path: 'app/db', version: '3', field: 'password' } }
 */
export function parseSecretReference(
  text: string,
): { ok: true; ref: SecretReference } | { ok: false; problem: string } {
  const colon = text.indexOf(':');
  if (colon === -1) {
    return SECRET_NAME.test(text)
      ? { ok: true, ref: { kind: 'builtin', name: text } }
      : { ok: false, problem: 'a secret name is 1-100 of A-Z a-z 0-9 _ . -' };
  }
  const store = text.slice(0, colon);
  if (!SECRET_NAME.test(store)) return { ok: false, problem: 'a store name is 1-100 of A-Z a-z 0-9 _ . -' };
  const rest = text.slice(colon + 1);
  const hash = rest.lastIndexOf('#');
  if (hash === -1) return { ok: false, problem: "a store reference names its field: 'store:path#field'" };
  const field = rest.slice(hash + 1);
  if (!FIELD.test(field)) return { ok: false, problem: 'a field is 1-200 of A-Z a-z 0-9 _ . -' };
  const [path = '', version, ...extra] = rest.slice(0, hash).split('@');
  if (extra.length > 0 || (version !== undefined && !VERSION.test(version)))
    return { ok: false, problem: "a version is one '@' and 1-64 of A-Z a-z 0-9 _ -" };
  const problem = pathProblem(path);
  if (problem) return { ok: false, problem };
  return { ok: true, ref: { kind: 'store', store, path, field, ...(version === undefined ? {} : { version }) } };
}

/**
 * The literal arguments of `$secret('…')` calls in a text (a template or an expression). Built
 * references (`$secret('vault:' & x)`) are checked where they are resolved.
 */
export function literalSecretArguments(text: string): string[] {
  return [...text.matchAll(LITERAL_CALL)].map((m) => m[1] ?? m[2] ?? '');
}

const LITERAL_CALL = /\$secret\s*\(\s*(?:'([^']*)'|"([^"]*)")\s*\)/g;

/** Every string of a JSON value, with its JSON pointer under `base`. */
export function stringsOf(value: unknown, base: string): [string, string][] {
  if (typeof value === 'string') return [[base, value]];
  const at = (k: string | number) => `${base}/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, at(i)));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => stringsOf(v, at(k)));
  return [];
}

/** The full path a store reads: its prefix, then the reference's path. */
export const storePath = (prefix: string, path: string): string =>
  [prefix.replace(/^\/+|\/+$/g, ''), path].filter((p) => p.length > 0).join('/');

/**
 * The problems of the literal `$secret('…')` references in a value (a step's config), each at its
 * JSON pointer: syntax, and a path that would leave its store's prefix.
 */
export function secretReferenceProblems(value: unknown, base: string): { pointer: string; message: string }[] {
  return stringsOf(value, base).flatMap(([pointer, text]) =>
    literalSecretArguments(text).flatMap((arg) => {
      const parsed = parseSecretReference(arg);
      return parsed.ok ? [] : [{ pointer, message: `$secret('${arg.slice(0, 120)}'): ${parsed.problem}` }];
    }),
  );
}

/** The stores the literal `$secret('store:…')` references of a value name. */
export function referencedStores(value: unknown): Set<string> {
  const stores = new Set<string>();
  for (const [, text] of stringsOf(value, ''))
    for (const arg of literalSecretArguments(text)) {
      const parsed = parseSecretReference(arg);
      if (parsed.ok && parsed.ref.kind === 'store') stores.add(parsed.ref.store);
    }
  return stores;
}

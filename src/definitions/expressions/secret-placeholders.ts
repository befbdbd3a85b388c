/**
 * `$secret('name')` evaluates to this reference; only the activity that uses it swaps in the
 * value, so secrets never enter workflow history. The nonce is drawn afresh for each render of a
 * connector's config and handed to the activity beside it: a reference copied from data (a
 * trigger, an event, a response) was made before that nonce existed, so it is never resolved.
 */
export const secretPlaceholder = (name: unknown, nonce = ''): string =>
  `\u001fsecret:${nonce ? `${nonce}:` : ''}${String(name)}\u001f`;

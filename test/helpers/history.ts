/**
 * Where a secret shows in a Temporal history, in any of the forms it could take there. Payload
 * data are bytes (base64 once the history is JSON), so searching `JSON.stringify(history)` finds
 * nothing in them: every byte array is decoded and searched as text too, for the value as it is,
 * JSON-escaped (inside a JSON payload) and base64 (standard and url-safe, padded or not).
 * Independent of the engine's own redaction, so a bug there cannot hide a leak here.
 * @example assert.deepEqual(leaksIn(await handle.fetchHistory(), VALUE), [])
 */
export function leaksIn(history: unknown, secret: string): string[] {
  const forms = secretForms(secret);
  const texts: [string, string][] = [['history as JSON', JSON.stringify(history, bytesAsBase64)]];
  byteArrays(history).forEach((bytes, i) => texts.push([`byte array ${i}`, Buffer.from(bytes).toString('utf8')]));
  return texts.flatMap(([where, text]) =>
    forms.filter(([, form]) => text.includes(form)).map(([name]) => `${name} in ${where}`),
  );
}

/** The forms a secret takes in a history: raw, JSON-escaped, base64 in its variants. */
export function secretForms(secret: string): [string, string][] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const forms: [string, string][] = [
    ['raw', secret],
    ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
    ['base64', base64.replace(/=+$/, '')],
    ['base64url', Buffer.from(secret, 'utf8').toString('base64url')],
  ];
  return forms.filter(([, form]) => form.length > 0);
}

/** Every byte array in a value (payload data, metadata values), however deep. */
export function byteArrays(value: unknown, seen = new Set<unknown>()): Uint8Array[] {
  if (value instanceof Uint8Array) return [value];
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  return Object.values(value).flatMap((v) => byteArrays(v, seen));
}

function bytesAsBase64(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  // A Buffer reaches a replacer already turned into { type: 'Buffer', data: [...] } by its toJSON.
  if (
    typeof value === 'object' &&
    value !== null &&
    Reflect.get(value, 'type') === 'Buffer' &&
    Array.isArray(Reflect.get(value, 'data'))
  )
    return Buffer.from(Reflect.get(value, 'data') as number[]).toString('base64');
  return value;
}

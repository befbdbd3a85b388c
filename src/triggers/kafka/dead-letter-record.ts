import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { KafkaDeadLetterReason, KafkaDeadLetterRecord, StoredBytes } from '../../db/kafka-dead-letters-repo.js';

/**
 * How much of a dead-lettered message is kept in PostgreSQL: the value up to VALUE_MAX_BYTES (the
 * whole message stays on the dead-letter topic), the key and each header value up to
 * FIELD_MAX_BYTES, at most MAX_HEADERS headers, the error up to ERROR_MAX_CHARS.
 */
export const DEAD_LETTER_BOUNDS = {
  VALUE_MAX_BYTES: 16 * 1024,
  FIELD_MAX_BYTES: 1024,
  MAX_HEADERS: 32,
  ERROR_MAX_CHARS: 2000,
} as const;

/** PostgreSQL text and jsonb refuse NUL, so text from a message never carries one. */
const pgText = (s: string) => s.replaceAll('\u0000', '\uFFFD');

/** The bytes as UTF-8 text without NUL, or undefined; a character cut at the end is dropped, not an error. */
function asText(bytes: Buffer, cut: boolean): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    // `stream` holds an incomplete last character back instead of failing on it: there, the cut made it.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cut });
  } catch {
    return undefined;
  }
}

/** Bytes as text when they are UTF-8 without NUL, else base64; only the first `max` bytes are looked at and kept. */
export function storedBytes(bytes: Buffer | string | null | undefined, max: number): StoredBytes {
  if (bytes === null || bytes === undefined) return { text: null, encoding: 'utf8', bytes: 0, truncated: false };
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const cut = buf.subarray(0, max);
  const truncated = buf.length > max;
  const text = asText(cut, truncated);
  return text !== undefined
    ? { text, encoding: 'utf8', bytes: buf.length, truncated }
    : { text: cut.toString('base64'), encoding: 'base64', bytes: buf.length, truncated };
}

function storedHeaders(headers: IHeaders | undefined): KafkaDeadLetterRecord['headers'] {
  const out: KafkaDeadLetterRecord['headers'] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (out.length >= DEAD_LETTER_BOUNDS.MAX_HEADERS) return out;
      const stored = storedBytes(v, DEAD_LETTER_BOUNDS.FIELD_MAX_BYTES);
      out.push({
        name: pgText(name.slice(0, 256)),
        value: stored.text,
        encoding: stored.encoding,
        truncated: stored.truncated,
      });
    }
  }
  return out;
}

export interface DeadLetterSource {
  tenantId: string;
  triggerId: string;
  topic: string;
  partition: number;
  raw: KafkaMessage;
  reason: KafkaDeadLetterReason;
  error: string;
}

/** The bounded record of a message one trigger could not use. */
export function deadLetterRecord(d: DeadLetterSource): KafkaDeadLetterRecord {
  const ms = Number(d.raw.timestamp);
  const key = storedBytes(d.raw.key, DEAD_LETTER_BOUNDS.FIELD_MAX_BYTES);
  const value = storedBytes(d.raw.value, DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES);
  const headers = storedHeaders(d.raw.headers);
  const headerCount = Object.values(d.raw.headers ?? {}).reduce<number>(
    (n, v) => n + (Array.isArray(v) ? v.length : 1),
    0,
  );
  return {
    tenantId: d.tenantId,
    triggerId: d.triggerId,
    topic: d.topic,
    partition: d.partition,
    offset: d.raw.offset,
    key,
    value,
    headers,
    reason: d.reason,
    error: pgText(d.error.slice(0, DEAD_LETTER_BOUNDS.ERROR_MAX_CHARS)),
    messageTime: Number.isFinite(ms) && ms > 0 ? new Date(ms) : null,
    whole: !key.truncated && !value.truncated && headers.length === headerCount && !headers.some((h) => h.truncated),
  };
}

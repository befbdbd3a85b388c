import type { IHeaders, KafkaMessage } from 'kafkajs';
import { nestedDeeperThan } from '../../shared/json-depth.js';

/** A message as filters, keys and runs see it (`trigger` in the run's expressions). */
export interface TriggerMessage {
  key: string | null;
  value: unknown;
  headers: Record<string, string | string[]>;
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
}

export type Decoded =
  { ok: true; message: TriggerMessage } | { ok: false; reason: 'too_large' | 'undecodable'; error: string };

export interface DecodeLimits {
  maxBytes: number;
  maxDepth: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function headerBytes(headers: IHeaders | undefined): number {
  let n = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    n += name.length;
    for (const v of Array.isArray(value) ? value : [value]) n += v === undefined ? 0 : Buffer.byteLength(v);
  }
  return n;
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value)
      ? value.map((v) => (typeof v === 'string' ? v : utf8.decode(v)))
      : typeof value === 'string'
        ? value
        : utf8.decode(value);
  }
  return out;
}

/**
 * Decodes a record: UTF-8 key and headers, a JSON value (a tombstone's is null). A record above
 * `maxBytes`, or one that is not UTF-8 and JSON, or nests deeper than `maxDepth`, is refused with
 * its reason, before anything parses it.
 */
export function decodeMessage(topic: string, partition: number, raw: KafkaMessage, limits: DecodeLimits): Decoded {
  const size = (raw.key?.length ?? 0) + (raw.value?.length ?? 0) + headerBytes(raw.headers);
  if (size > limits.maxBytes)
    return {
      ok: false,
      reason: 'too_large',
      error: `the message has ${size} bytes, above KAFKA_MAX_MESSAGE_BYTES (${limits.maxBytes})`,
    };
  try {
    const text = raw.value === null ? null : utf8.decode(raw.value);
    if (text !== null && nestedDeeperThan(text, limits.maxDepth))
      return { ok: false, reason: 'undecodable', error: `the value nests deeper than ${limits.maxDepth} levels` };
    const value: unknown = text === null ? null : JSON.parse(text);
    const key = raw.key === null ? null : utf8.decode(raw.key);
    const message = {
      key,
      value,
      headers: decodeHeaders(raw.headers),
      topic,
      partition,
      offset: raw.offset,
      timestamp: new Date(Number(raw.timestamp)).toISOString(),
    };
    return { ok: true, message };
  } catch (err) {
    return {
      ok: false,
      reason: 'undecodable',
      error: `the value is not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../shared/errors.js';
import { decodeCursor, page } from './cursor.js';
import type { Pool } from './pool.js';

/** Bytes of a message as stored: text when they were UTF-8 without NUL, else base64; cut at a bound. */
export interface StoredBytes {
  text: string | null;
  encoding: 'utf8' | 'base64';
  /** The size as the message carried it. */
  bytes: number;
  truncated: boolean;
}

/** Why a trigger could not use a message. */
export const KAFKA_DEAD_LETTER_REASONS = [
  'undecodable',
  'too_large',
  'filter_failed',
  'key_failed',
  'start_refused',
] as const;
export type KafkaDeadLetterReason = (typeof KAFKA_DEAD_LETTER_REASONS)[number];

/** What the trigger service records when one trigger could not use a message. */
export interface KafkaDeadLetterRecord {
  tenantId: string;
  triggerId: string;
  topic: string;
  partition: number;
  offset: string;
  key: StoredBytes;
  value: StoredBytes;
  headers: { name: string; value: string | null; encoding: 'utf8' | 'base64'; truncated: boolean }[];
  reason: KafkaDeadLetterReason;
  error: string;
  messageTime: Date | null;
  /** Nothing was cut (value, key, every header): the message can be re-driven from the record. */
  whole: boolean;
}

export type KafkaDeadLetterStatus = 'open' | 'discarded' | 'redriven';

export interface KafkaDeadLetterRow extends Omit<KafkaDeadLetterRecord, 'tenantId' | 'key'> {
  id: string;
  key: Pick<StoredBytes, 'text' | 'encoding'>;
  status: KafkaDeadLetterStatus;
  createdAt: Date;
  resolvedAt: Date | null;
}

interface DbRow {
  id: string;
  triggerId: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  keyEncoding: 'utf8' | 'base64';
  reason: KafkaDeadLetterReason;
  error: string;
  headers: KafkaDeadLetterRecord['headers'];
  value: string | null;
  valueEncoding: 'utf8' | 'base64';
  valueBytes: number;
  valueTruncated: boolean;
  messageTime: Date | null;
  whole: boolean;
  status: KafkaDeadLetterStatus;
  createdAt: Date;
  resolvedAt: Date | null;
}

const COLUMNS = `id, trigger_id AS "triggerId", topic, partition, "offset"::text AS "offset", key, key_encoding AS "keyEncoding",
  reason, error, headers, value, value_encoding AS "valueEncoding", value_bytes AS "valueBytes", value_truncated AS "valueTruncated",
  message_time AS "messageTime", whole, status, created_at AS "createdAt", resolved_at AS "resolvedAt"`;

const toRow = (r: DbRow): KafkaDeadLetterRow => ({
  id: r.id,
  triggerId: r.triggerId,
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
  key: { text: r.key, encoding: r.keyEncoding },
  value: { text: r.value, encoding: r.valueEncoding, bytes: r.valueBytes, truncated: r.valueTruncated },
  headers: r.headers,
  reason: r.reason,
  error: r.error,
  messageTime: r.messageTime,
  whole: r.whole,
  status: r.status,
  createdAt: r.createdAt,
  resolvedAt: r.resolvedAt,
});

/** PostgreSQL's foreign_key_violation: the trigger was deleted after the service last read it. */
const FOREIGN_KEY_VIOLATION = '23503';

/** Kafka messages triggers could not use, always scoped to one tenant (the trigger service writes them). */
export function createKafkaDeadLettersRepo(pool: Pool) {
  return {
    /**
     * Records a message once per trigger: a message delivered again finds its row and adds none.
     * A trigger deleted meanwhile records nothing (its dead letters went with it).
     */
    async record(r: KafkaDeadLetterRecord): Promise<void> {
      try {
        await pool.query(
          `INSERT INTO kafka_dead_letters (tenant_id, id, trigger_id, topic, partition, "offset", key, key_encoding, reason, error, headers,
             value, value_encoding, value_bytes, value_truncated, message_time, whole)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
           ON CONFLICT (tenant_id, trigger_id, topic, partition, "offset") DO NOTHING`,
          [
            r.tenantId,
            randomUUID(),
            r.triggerId,
            r.topic,
            r.partition,
            r.offset,
            r.key.text,
            r.key.encoding,
            r.reason,
            r.error,
            JSON.stringify(r.headers),
            r.value.text,
            r.value.encoding,
            r.value.bytes,
            r.value.truncated,
            r.messageTime,
            r.whole,
          ],
        );
      } catch (err) {
        if (err instanceof Error && 'code' in err && err.code === FOREIGN_KEY_VIOLATION) return;
        throw err;
      }
    },

    async get(tenantId: string, triggerId: string, id: string): Promise<KafkaDeadLetterRow> {
      const { rows } = await pool.query<DbRow>(
        `SELECT ${COLUMNS} FROM kafka_dead_letters WHERE tenant_id = $1 AND trigger_id = $2 AND id = $3`,
        [tenantId, triggerId, id],
      );
      const row = rows[0];
      if (!row) throw notFound('dead letter', id);
      return toRow(row);
    },

    /** A trigger's dead letters of one status, newest first. */
    async list(
      tenantId: string,
      triggerId: string,
      filter: { status: KafkaDeadLetterStatus; reason?: string },
      opts: { cursor?: string; limit: number },
    ): Promise<{ items: KafkaDeadLetterRow[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const { rows } = await pool.query<DbRow>(
        `SELECT ${COLUMNS} FROM kafka_dead_letters
          WHERE tenant_id = $1 AND trigger_id = $2 AND status = $3 AND ($4::text IS NULL OR reason = $4)
            AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
          ORDER BY created_at DESC, id DESC LIMIT $7`,
        [tenantId, triggerId, filter.status, filter.reason ?? null, after?.at ?? null, after?.id ?? '', opts.limit + 1],
      );
      return page(rows.map(toRow), opts.limit, (r) => ({ at: r.createdAt, id: r.id }));
    },

    /**
     * Marks an open dead letter discarded or re-driven; the row stays, so the message, delivered
     * again, is not recorded again. 409 when it is not open any more.
     */
    async resolve(tenantId: string, triggerId: string, id: string, status: 'discarded' | 'redriven'): Promise<void> {
      const { rowCount } = await pool.query(
        `UPDATE kafka_dead_letters SET status = $4, resolved_at = now()
          WHERE tenant_id = $1 AND trigger_id = $2 AND id = $3 AND status = 'open'`,
        [tenantId, triggerId, id, status],
      );
      if (!rowCount) throw resolved(id, (await this.get(tenantId, triggerId, id)).status);
    },
  };
}

export type KafkaDeadLettersRepo = ReturnType<typeof createKafkaDeadLettersRepo>;

/** 409: the dead letter was discarded or re-driven already. */
export const resolved = (id: string, status: KafkaDeadLetterStatus) =>
  new AppError({ code: 'DEAD_LETTER_RESOLVED', message: `dead letter '${id}' is already ${status}`, httpStatus: 409 });

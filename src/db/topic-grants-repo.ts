import type { Pool } from './pool.js';

/** Kafka topics (or prefixes ending in `*`) an operator granted to a tenant beyond its own prefix. */
export function createTopicGrantsRepo(pool: Pool) {
  return {
    async list(tenantId: string): Promise<string[]> {
      const { rows } = await pool.query<{ pattern: string }>(
        'SELECT pattern FROM kafka_topic_grants WHERE tenant_id = $1 ORDER BY pattern',
        [tenantId],
      );
      return rows.map((r) => r.pattern);
    },

    /** Replaces the tenant's grants with `patterns`, in one transaction. */
    async replace(tenantId: string, patterns: readonly string[]): Promise<string[]> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('DELETE FROM kafka_topic_grants WHERE tenant_id = $1', [tenantId]);
        await client.query(
          'INSERT INTO kafka_topic_grants (tenant_id, pattern) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
          [tenantId, [...new Set(patterns)]],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
      return [...new Set(patterns)].sort();
    },
  };
}

export type TopicGrantsRepo = ReturnType<typeof createTopicGrantsRepo>;

import type { Pool } from './pool.js';

/** Where claim-checked payloads live (see src/temporal/claim-check.ts). */
export function createClaimsRepo(pool: Pool) {
  return {
    async put(runId: string, sha256: string, data: Uint8Array): Promise<void> {
      await pool.query('INSERT INTO payload_claims (run_id, sha256, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        runId,
        sha256,
        Buffer.from(data),
      ]);
    },

    async get(runId: string, sha256: string): Promise<Uint8Array | undefined> {
      const { rows } = await pool.query<{ data: Buffer }>(
        'SELECT data FROM payload_claims WHERE run_id = $1 AND sha256 = $2',
        [runId, sha256],
      );
      return rows[0]?.data;
    },

    /** Drops the claims of a run (and of its children and batches, whose ids start with the run's). */
    async deleteRun(runId: string): Promise<number> {
      const { rowCount } = await pool.query('DELETE FROM payload_claims WHERE run_id = $1', [runId]);
      return rowCount ?? 0;
    },
  };
}

export type ClaimsRepo = ReturnType<typeof createClaimsRepo>;

import pg from 'pg';
import type { Definition, FailureTarget } from '../definitions/schema.js';
import { ByteLru } from '../shared/byte-lru.js';
import type { Logger } from '../shared/logger.js';

/** The channel every change to what a trigger starts (a new version, archiving) is notified on. */
export const WORKFLOW_CHANGED = 'mz_workflow_changed';

export const changeKey = (tenantId: string, id: string) => `${tenantId}\n${id}`;

/** Notified when what every trigger of a tenant reads changed (its settings): every entry is dropped. */
export const ALL_WORKFLOWS = '*';

/** What a trigger needs of a workflow: its latest version, and its tenant's default failure workflow. */
export interface LatestVersion {
  id: string;
  version: number;
  definition: Definition;
  archivedAt: Date | null;
  tenantOnFailure: FailureTarget | null;
}

export interface LatestVersions {
  get(key: string): LatestVersion | undefined;
  /** Counts changes seen; a read keeps its result only if no change arrived while it ran. */
  generation(): number;
  set(key: string, value: LatestVersion, readAt: number): void;
  forget(key: string): void;
  close(): Promise<void>;
}

/** Definitions are up to 1 MiB each: the cache is bounded by what they weigh, not by their number. */
const MAX_BYTES = 32 * 1024 * 1024;
/** However notifications fare (a connection can die without a word), nothing is kept longer. */
const MAX_AGE_MS = 10_000;

/**
 * The latest version of each triggered workflow, kept in memory so a trigger reads no database.
 * Writers notify `WORKFLOW_CHANGED` in their transaction; this process listens on its own
 * connection and drops what changed. While that connection is down nothing is kept, and nothing is
 * kept longer than `MAX_AGE_MS` in any case, so a lost notification cannot leave a stale entry
 * for long. Another process sees a change once PostgreSQL delivers the notification (about a
 * millisecond on one host); the process that made it, at once.
 */
export function watchLatestVersions(connectionString: string, logger: Logger): LatestVersions {
  const entries = new ByteLru<{ value: LatestVersion; at: number }>(MAX_BYTES);
  let generation = 0;
  let listening = false;
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const drop = (key?: string) => {
    generation++;
    if (key === undefined || key === ALL_WORKFLOWS) entries.clear();
    else entries.delete(key);
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
    client = c;
    c.on('notification', (msg) => drop(msg.payload));
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${WORKFLOW_CHANGED}`);
      if (closed || client !== c) return;
      drop();
      listening = true;
      logger.debug('listening for workflow changes');
    } catch (err) {
      logger.warn({ error: (err as Error).message }, 'cannot listen for workflow changes; triggers read the database');
      lost(c);
    }
  }

  function lost(c: pg.Client): void {
    if (client !== c) return;
    client = undefined;
    listening = false;
    drop();
    c.end().catch(() => undefined);
    if (!closed) retry = setTimeout(() => void connect(), 1_000).unref();
  }

  void connect();
  return {
    get(key) {
      const entry = listening ? entries.get(key) : undefined;
      return entry && Date.now() - entry.at < MAX_AGE_MS ? entry.value : undefined;
    },
    generation: () => generation,
    set(key, value, readAt) {
      if (!listening || readAt !== generation) return;
      entries.set(key, { value, at: Date.now() }, key.length + (JSON.stringify(value.definition)?.length ?? 0));
    },
    forget: (key) => drop(key),
    async close() {
      closed = true;
      clearTimeout(retry);
      listening = false;
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}

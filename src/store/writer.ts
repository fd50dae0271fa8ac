/**
 * The single write path into the store. Every source's records go through `writeBatch`, one
 * transaction per batch, with the source priority rule: for the same ID, v2 tables > v1 tables > JSON;
 * a record from the same source file replaces the stored one (an update); a lower-ranked copy is
 * recorded in `source_shadows` and not stored.
 */
import { type DuckDBConnection, listValue } from '@duckdb/node-api';
import type {
  IngestProblem,
  IngestRecord,
  MessageRecord,
  PartRecord,
  ProjectRecord,
  SessionDiffRecord,
  SessionRecord,
  SourceKind,
  TodoRecord,
  ToolCallRecord,
} from '../ingest/records.ts';
import { SOURCE_RANK } from '../ingest/records.ts';
import { appendRows, checkColumns } from './appender.ts';
import {
  type Col,
  messageCols,
  partCols,
  projectCols,
  sessionCols,
  sessionDiffCols,
  todoCols,
  toolCallCols,
} from './columns.ts';
import { enqueueSessions } from './derive-queue.ts';
import { inTransaction } from './transaction.ts';

export type Entity = 'project' | 'session' | 'message' | 'part' | 'todo' | 'session_diff';

interface EntitySpec {
  table: string;
  key: string;
  cols: readonly Col<never>[];
  idOf: (r: IngestRecord) => string;
}

const SPECS: Record<Entity, EntitySpec> = {
  project: {
    table: 'projects',
    key: 'project_id',
    cols: projectCols as never,
    idOf: (r) => (r as ProjectRecord).projectId,
  },
  session: {
    table: 'sessions',
    key: 'session_id',
    cols: sessionCols as never,
    idOf: (r) => (r as SessionRecord).sessionId,
  },
  message: {
    table: 'messages',
    key: 'message_id',
    cols: messageCols as never,
    idOf: (r) => (r as MessageRecord).messageId,
  },
  part: { table: 'parts', key: 'part_id', cols: partCols as never, idOf: (r) => (r as PartRecord).partId },
  todo: {
    table: 'todos',
    key: 'session_id',
    cols: todoCols as never,
    idOf: (r) => (r as TodoRecord).sessionId,
  },
  session_diff: {
    table: 'session_diffs',
    key: 'session_id',
    cols: sessionDiffCols as never,
    idOf: (r) => (r as SessionDiffRecord).sessionId,
  },
};
const ENTITY_ORDER: readonly Entity[] = ['project', 'session', 'message', 'part', 'todo', 'session_diff'];

interface Holder {
  rank: number;
  sourcePath: string;
  source: SourceKind;
}

export interface FileCheckpoint {
  path: string;
  kind: string;
  entityId: string;
  size: number;
  mtimeUs: number;
  status: 'ok' | 'error' | 'shadowed';
  /** True when `source_files` already has a row for this path (it is replaced). */
  known: boolean;
}

export interface WriteStats {
  inserted: Record<Entity, number>;
  replaced: Record<Entity, number>;
  shadowed: Record<Entity, number>;
  toolCalls: number;
  errors: number;
  warnings: number;
  /** rows written, by `<table>/<source>` (the rows-ingested metric) */
  rows: Record<string, number>;
  /** problems recorded, by code (`IngestProblem.code`) */
  problems: Record<string, number>;
}

const zero = (): Record<Entity, number> => ({
  project: 0,
  session: 0,
  message: 0,
  part: 0,
  todo: 0,
  session_diff: 0,
});

export class StoreWriter {
  readonly stats: WriteStats = {
    inserted: zero(),
    replaced: zero(),
    shadowed: zero(),
    toolCalls: 0,
    errors: 0,
    warnings: 0,
    rows: {},
    problems: {},
  };
  /** Holders looked up in the current transaction (null: nobody holds the ID). */
  private readonly holders = new Map<Entity, Map<string, Holder | null>>();
  /** Messages whose derived columns must be recomputed by finalize(). */
  private readonly dirtyMessages = new Set<string>();
  /** Sessions whose rows changed since the last takeTouchedSessions() (derivation re-runs for them). */
  private readonly touchedSessions = new Set<string>();
  private checked = false;
  /** Inside a bulk transaction (startBulk … endBulk), batches don't commit on their own. */
  private bulk = false;
  private ingestErrorCount = -1;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly opts: { holderGone?: (sourcePath: string) => boolean } = {},
  ) {}

  private async init(): Promise<void> {
    if (this.checked) return;
    for (const e of ENTITY_ORDER)
      await checkColumns(this.conn, SPECS[e].table, SPECS[e].cols as readonly Col<unknown>[]);
    await checkColumns(this.conn, 'tool_calls', toolCallCols as readonly Col<unknown>[]);
    for (const sql of [
      'CREATE TEMP TABLE IF NOT EXISTS tmp_shadows (entity VARCHAR, entity_id VARCHAR, source VARCHAR, source_path VARCHAR, winner_source VARCHAR)',
      'CREATE TEMP TABLE IF NOT EXISTS tmp_errors (source_path VARCHAR, reason VARCHAR, severity VARCHAR)',
      'CREATE TEMP TABLE IF NOT EXISTS tmp_ids (id VARCHAR)',
    ])
      await this.conn.run(sql);
    this.checked = true;
  }

  /**
   * Who holds these IDs now. Looked up per batch and cached until the transaction ends (kept current
   * by this writer meanwhile), so a long-running bridge keeps no per-ID state between batches.
   */
  async prefetchHolders(entity: Entity, ids: Iterable<string>): Promise<Map<string, Holder | null>> {
    let m = this.holders.get(entity);
    if (!m) {
      m = new Map();
      this.holders.set(entity, m);
    }
    const missing: string[] = [];
    for (const id of ids) {
      if (m.has(id)) continue;
      m.set(id, null);
      missing.push(id);
    }
    if (missing.length === 0) return m;
    const spec = SPECS[entity];
    const reader = await this.conn.runAndReadAll(
      `SELECT DISTINCT ${spec.key} AS id, source, source_path FROM ${spec.table}
        WHERE ${spec.key} IN (SELECT unnest($1::VARCHAR[]))`,
      [listValue(missing)],
    );
    for (const r of reader.getRows()) {
      const source = r[1] as SourceKind;
      m.set(String(r[0]), { rank: SOURCE_RANK[source] ?? 0, source, sourcePath: String(r[2]) });
    }
    return m;
  }

  private async holderOf(entity: Entity, id: string): Promise<Holder | undefined> {
    return (await this.prefetchHolders(entity, [id])).get(id) ?? undefined;
  }

  /** True when a record of `source` from `sourcePath` for this ID would be stored (not shadowed). */
  async wouldStore(entity: Entity, id: string, source: SourceKind, sourcePath: string): Promise<boolean> {
    return this.wins(await this.holderOf(entity, id), source, sourcePath);
  }

  /**
   * The rank rule, in one place: a record is stored when nothing holds its ID, when it comes from the
   * holder's own source (an update), from a higher-ranked source, or from an equal-ranked file that
   * replaces a holder file which is gone (a moved session).
   */
  private wins(h: Holder | undefined, source: SourceKind, sourcePath: string): boolean {
    if (!h || (h.sourcePath === sourcePath && h.source === source) || SOURCE_RANK[source] > h.rank)
      return true;
    return SOURCE_RANK[source] === h.rank && (this.opts.holderGone?.(h.sourcePath) ?? false);
  }

  async recordShadow(entity: Entity, id: string, source: SourceKind, sourcePath: string): Promise<void> {
    const h = await this.holderOf(entity, id);
    this.pendingShadows.push({ entity, id, source, sourcePath, winner: h?.source ?? source });
    this.stats.shadowed[entity]++;
  }

  private pendingShadows: {
    entity: Entity;
    id: string;
    source: SourceKind;
    sourcePath: string;
    winner: SourceKind;
  }[] = [];

  /** Writes one batch in one transaction. */
  async writeBatch(
    records: IngestRecord[],
    problems: IngestProblem[] = [],
    files: FileCheckpoint[] = [],
  ): Promise<void> {
    await this.init();
    // decide per record: insert, replace, or shadow
    const pending = new Map<Entity, Map<string, IngestRecord[]>>();
    const toDelete = new Map<Entity, Set<string>>();
    const idsByEntity = new Map<Entity, string[]>();
    for (const r of records) {
      const entity = r.kind as Entity;
      const ids = idsByEntity.get(entity) ?? [];
      idsByEntity.set(entity, ids);
      ids.push(SPECS[entity].idOf(r));
    }
    const holdersByEntity = new Map<Entity, Map<string, Holder | null>>();
    for (const [entity, ids] of idsByEntity)
      holdersByEntity.set(entity, await this.prefetchHolders(entity, ids));
    for (const r of records) {
      const entity = r.kind as Entity;
      const spec = SPECS[entity];
      const id = spec.idOf(r);
      const holders = holdersByEntity.get(entity) as Map<string, Holder | null>;
      const h = holders.get(id) ?? undefined;
      const rank = SOURCE_RANK[r.source];
      let byId = pending.get(entity);
      if (!byId) {
        byId = new Map();
        pending.set(entity, byId);
      }
      const sameOrigin = h !== undefined && h.sourcePath === r.sourcePath && h.source === r.source;
      if (h && !this.wins(h, r.source, r.sourcePath)) {
        this.pendingShadows.push({
          entity,
          id,
          source: r.source,
          sourcePath: r.sourcePath,
          winner: h.source,
        });
        this.stats.shadowed[entity]++;
        continue;
      }
      if (h) {
        const del = toDelete.get(entity) ?? new Set<string>();
        toDelete.set(entity, del);
        del.add(id);
        if (!sameOrigin) {
          this.pendingShadows.push({
            entity,
            id,
            source: h.source,
            sourcePath: h.sourcePath,
            winner: r.source,
          });
        }
      }
      // todos: several records share the session key and come together; others: last one wins
      const list =
        entity === 'todo' && byId.has(id) && byId.get(id)?.[0]?.sourcePath === r.sourcePath
          ? (byId.get(id) ?? [])
          : [];
      list.push(r);
      byId.set(id, list);
      holders.set(id, { rank, sourcePath: r.sourcePath, source: r.source });
    }

    const body = async () => {
      for (const entity of ENTITY_ORDER) {
        const spec = SPECS[entity];
        const del = toDelete.get(entity);
        if (del && del.size > 0) {
          const ids = listValue([...del]);
          await this.conn.run(
            `DELETE FROM ${spec.table} WHERE ${spec.key} IN (SELECT unnest($1::VARCHAR[]))`,
            [ids],
          );
          if (entity === 'part')
            await this.conn.run(`DELETE FROM tool_calls WHERE part_id IN (SELECT unnest($1::VARCHAR[]))`, [
              ids,
            ]);
          this.stats.replaced[entity] += del.size;
        }
        const byId = pending.get(entity);
        if (!byId || byId.size === 0) continue;
        const rows = [...byId.values()].flat();
        await appendRows(this.conn, spec.table, spec.cols as readonly Col<IngestRecord>[], rows);
        this.stats.inserted[entity] += rows.length - (del?.size ?? 0);
        for (const r of rows) {
          const k = `${spec.table}/${r.source}`;
          this.stats.rows[k] = (this.stats.rows[k] ?? 0) + 1;
        }
        for (const r of rows) {
          const sid = (r as { sessionId?: string }).sessionId;
          if (sid) this.touchedSessions.add(sid);
        }
        if (entity === 'message')
          for (const r of rows) this.dirtyMessages.add((r as MessageRecord).messageId);
        if (entity === 'part') {
          const tools: ToolCallRecord[] = [];
          for (const r of rows as PartRecord[]) {
            this.dirtyMessages.add(r.messageId);
            if (r.tool) tools.push(r.tool);
          }
          if (tools.length > 0) await appendRows(this.conn, 'tool_calls', toolCallCols, tools);
          this.stats.toolCalls += tools.length;
        }
      }
      await this.flushBookkeeping(problems, files);
    };
    if (this.bulk) await body();
    else {
      await inTransaction(this.conn, body);
      this.holders.clear();
    }
  }

  /**
   * Bulk mode: one transaction over many batches. DuckDB writes a large transaction's rows straight
   * into the database file at commit, while many small commits each go through the WAL (measured
   * ~3x slower for the same rows). Call commitBulk() now and then to bound the work a crash loses.
   */
  async startBulk(): Promise<void> {
    await this.init();
    if (this.bulk) return;
    await this.conn.run('BEGIN TRANSACTION');
    this.bulk = true;
  }

  async commitBulk(): Promise<void> {
    if (!this.bulk) return;
    await this.conn.run('COMMIT');
    await this.conn.run('BEGIN TRANSACTION');
  }

  async endBulk(ok = true): Promise<void> {
    if (!this.bulk) return;
    this.bulk = false;
    this.holders.clear(); // looked up again by the next transaction: nothing per ID stays in memory
    await this.conn.run(ok ? 'COMMIT' : 'ROLLBACK');
  }

  private async flushBookkeeping(problems: IngestProblem[], files: FileCheckpoint[]): Promise<void> {
    const conn = this.conn;
    if (this.pendingShadows.length > 0) {
      await appendRows(conn, 'tmp_shadows', shadowCols, this.pendingShadows);
      await conn.run(
        `INSERT OR REPLACE INTO source_shadows SELECT DISTINCT ON (entity, entity_id, source_path) * FROM tmp_shadows`,
      );
      await conn.run('DELETE FROM tmp_shadows');
      this.pendingShadows = [];
    }
    // a file or row that now ingests cleanly clears its earlier error
    if (this.ingestErrorCount < 0) {
      const r = await conn.runAndReadAll('SELECT count(*) FROM ingest_errors');
      this.ingestErrorCount = Number(r.getRows()[0]?.[0] ?? 0);
    }
    const okPaths = files.filter((f) => f.status !== 'error').map((f) => f.path);
    if (okPaths.length > 0 && this.ingestErrorCount > 0) {
      await conn.run('DELETE FROM ingest_errors WHERE source_path IN (SELECT unnest($1::VARCHAR[]))', [
        listValue(okPaths),
      ]);
    }
    if (problems.length > 0) {
      this.ingestErrorCount += problems.length;
      for (const p of problems) {
        p.severity === 'error' ? this.stats.errors++ : this.stats.warnings++;
        const k = p.code;
        this.stats.problems[k] = (this.stats.problems[k] ?? 0) + 1;
      }
      await appendRows(conn, 'tmp_errors', errorCols, problems);
      await conn.run(`INSERT INTO ingest_errors
        SELECT source_path, last(reason), CASE WHEN bool_or(severity = 'error') THEN 'error' ELSE 'warning' END,
               now()::TIMESTAMP, now()::TIMESTAMP, 1
        FROM tmp_errors GROUP BY source_path
        ON CONFLICT (source_path) DO UPDATE SET reason = excluded.reason, severity = excluded.severity,
          last_seen_at = excluded.last_seen_at, attempts = ingest_errors.attempts + 1`);
      await conn.run('DELETE FROM tmp_errors');
    }
    if (files.length > 0) {
      const known = files.filter((f) => f.known).map((f) => f.path);
      if (known.length > 0) {
        await conn.run('DELETE FROM source_files WHERE path IN (SELECT unnest($1::VARCHAR[]))', [
          listValue(known),
        ]);
      }
      await appendRows(conn, 'source_files', fileCols, files);
    }
  }

  /** Forgets cached holders and pending work, after a rolled-back transaction. */
  invalidate(): void {
    this.holders.clear();
    this.dirtyMessages.clear();
    this.touchedSessions.clear();
    this.pendingShadows = [];
    this.ingestErrorCount = -1;
  }

  /** Records the high-water mark of an incremental source (a DB table). */
  async setHighWater(sourceKey: string, highWaterMs: number): Promise<void> {
    await this.conn.run(`INSERT OR REPLACE INTO source_state VALUES ($1, $2, now()::TIMESTAMP)`, [
      sourceKey,
      highWaterMs,
    ]);
  }

  /**
   * Recomputes what is derived from several rows: message tokens are the sum of their step-finish parts
   * where they have any (OpenCode overwrites message tokens with the last step's), parts without a
   * session take their message's. Only messages touched since the last call are recomputed.
   */
  async finalize(): Promise<number> {
    await this.init();
    if (this.touchedSessions.size > 0) {
      const ids = [...this.touchedSessions];
      this.touchedSessions.clear();
      if (this.bulk) await enqueueSessions(this.conn, ids);
      else await inTransaction(this.conn, () => enqueueSessions(this.conn, ids));
    }
    if (this.dirtyMessages.size === 0) return 0;
    const conn = this.conn;
    const n = this.dirtyMessages.size;
    const body = async () => {
      await conn.run('DELETE FROM tmp_ids');
      await appendRows(conn, 'tmp_ids', idCols, this.dirtyMessages);
      await conn.run(`UPDATE messages AS m SET
          input_tokens = s.i, output_tokens = s.o, reasoning_tokens = s.r, cache_read_tokens = s.cr,
          cache_write_tokens = s.cw, token_source = 'steps', step_count = s.n
        FROM (SELECT message_id, count(*) AS n, sum(step_input_tokens) AS i, sum(step_output_tokens) AS o,
                     sum(step_reasoning_tokens) AS r, sum(step_cache_read_tokens) AS cr, sum(step_cache_write_tokens) AS cw
              FROM parts WHERE part_type = 'step-finish' AND message_id IN (SELECT id FROM tmp_ids)
              GROUP BY message_id) AS s
        WHERE m.message_id = s.message_id`);
      await conn.run(`UPDATE messages SET
          input_tokens = recorded_input_tokens, output_tokens = recorded_output_tokens,
          reasoning_tokens = recorded_reasoning_tokens, cache_read_tokens = recorded_cache_read_tokens,
          cache_write_tokens = recorded_cache_write_tokens,
          token_source = CASE WHEN recorded_input_tokens IS NULL AND recorded_output_tokens IS NULL THEN NULL ELSE 'message' END,
          step_count = 0
        WHERE message_id IN (SELECT id FROM tmp_ids)
          AND message_id NOT IN (SELECT message_id FROM parts WHERE part_type = 'step-finish' AND message_id IN (SELECT id FROM tmp_ids))`);
      await conn.run(`UPDATE parts AS p SET session_id = m.session_id FROM messages AS m
        WHERE p.session_id IS NULL AND p.message_id = m.message_id AND p.message_id IN (SELECT id FROM tmp_ids)`);
      await conn.run(`UPDATE tool_calls AS p SET session_id = m.session_id FROM messages AS m
        WHERE p.session_id IS NULL AND p.message_id = m.message_id AND p.message_id IN (SELECT id FROM tmp_ids)`);
      await conn.run('DELETE FROM tmp_ids');
    };
    // inside a bulk transaction the derived columns commit together with the rows they come from
    if (this.bulk) await body();
    else await inTransaction(conn, body);
    this.dirtyMessages.clear();
    return n;
  }
}

const shadowCols: readonly Col<{
  entity: Entity;
  id: string;
  source: SourceKind;
  sourcePath: string;
  winner: SourceKind;
}>[] = [
  ['entity', 'varchar', (r) => r.entity],
  ['entity_id', 'varchar', (r) => r.id],
  ['source', 'varchar', (r) => r.source],
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['winner_source', 'varchar', (r) => r.winner],
];
const fileCols: readonly Col<FileCheckpoint>[] = [
  ['path', 'varchar', (r) => r.path],
  ['kind', 'varchar', (r) => r.kind],
  ['entity_id', 'varchar', (r) => r.entityId],
  ['size', 'bigint', (r) => r.size],
  ['mtime_us', 'bigint', (r) => r.mtimeUs],
  ['status', 'varchar', (r) => r.status],
  ['ingested_at', 'timestamp', () => Date.now()],
];
const errorCols: readonly Col<IngestProblem>[] = [
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['reason', 'varchar', (r) => r.reason],
  ['severity', 'varchar', (r) => r.severity],
];
const idCols: readonly Col<string>[] = [['id', 'varchar', (r) => r]];

/**
 * The single write path into the store. Every source's records go through `writeBatch`, one
 * transaction per batch, with the source priority rule: for the same ID, v2 tables > v1 tables > JSON;
 * a record from the same source file replaces the stored one (an update); a lower-ranked copy is
 * recorded in `source_shadows` and not stored. What it records about the sources is in
 * `bookkeeping.ts`, the columns derived from several rows in `message-tokens.ts`.
 */
import { type DuckDBConnection, listValue } from '@duckdb/node-api';
import type {
  IngestProblem,
  IngestRecord,
  MessageRecord,
  PartRecord,
  SourceKind,
  ToolCallRecord,
} from '../ingest/records.ts';
import { SOURCE_RANK } from '../ingest/records.ts';
import { appendRows, checkColumns } from './appender.ts';
import { BOOKKEEPING_TEMP_TABLES, type FileCheckpoint, SourceBookkeeping } from './bookkeeping.ts';
import { type Col, toolCallCols } from './columns.ts';
import { enqueueSessions } from './derive-queue.ts';
import { ENTITY_ORDER, type Entity, SPECS, zeroPerEntity } from './entities.ts';
import { MESSAGE_IDS_TEMP_TABLE, recomputeMessageTokens } from './message-tokens.ts';
import { inTransaction } from './transaction.ts';

interface Holder {
  rank: number;
  sourcePath: string;
  source: SourceKind;
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

export class StoreWriter {
  readonly stats: WriteStats = {
    inserted: zeroPerEntity(),
    replaced: zeroPerEntity(),
    shadowed: zeroPerEntity(),
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
  private readonly bookkeeping: SourceBookkeeping;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly opts: { holderGone?: (sourcePath: string) => boolean } = {},
  ) {
    this.bookkeeping = new SourceBookkeeping(conn);
  }

  private async init(): Promise<void> {
    if (this.checked) return;
    for (const e of ENTITY_ORDER)
      await checkColumns(this.conn, SPECS[e].table, SPECS[e].cols as readonly Col<unknown>[]);
    await checkColumns(this.conn, 'tool_calls', toolCallCols as readonly Col<unknown>[]);
    for (const sql of [...BOOKKEEPING_TEMP_TABLES, MESSAGE_IDS_TEMP_TABLE]) await this.conn.run(sql);
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
    this.bookkeeping.shadow({ entity, id, source, sourcePath, winner: h?.source ?? source });
    this.stats.shadowed[entity]++;
  }

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
        this.bookkeeping.shadow({
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
          this.bookkeeping.shadow({
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
      await this.bookkeeping.flush(problems, files, this.stats);
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
   * several times slower for the same rows). Call commitBulk() now and then to bound the work a crash loses.
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

  /**
   * Ends a bulk transaction that failed, whatever state it is in (a commit that failed has already
   * rolled back, and ROLLBACK then fails: that is fine).
   */
  async abortBulk(): Promise<void> {
    this.bulk = false;
    this.holders.clear();
    try {
      await this.conn.run('ROLLBACK');
    } catch {
      // no transaction was active
    }
  }

  /** Forgets cached holders and pending work, after a rolled-back transaction. */
  invalidate(): void {
    this.holders.clear();
    this.dirtyMessages.clear();
    this.touchedSessions.clear();
    this.bookkeeping.invalidate();
  }

  /** Records the high-water mark of an incremental source (a DB table). */
  setHighWater(sourceKey: string, highWaterMs: number): Promise<void> {
    return this.bookkeeping.setHighWater(sourceKey, highWaterMs);
  }

  /**
   * Queues the touched sessions for derivation and recomputes the touched messages' derived columns
   * (`recomputeMessageTokens`). Only messages touched since the last call are recomputed.
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
    const n = this.dirtyMessages.size;
    const body = () => recomputeMessageTokens(this.conn, this.dirtyMessages);
    // inside a bulk transaction the derived columns commit together with the rows they come from
    if (this.bulk) await body();
    else await inTransaction(this.conn, body);
    this.dirtyMessages.clear();
    return n;
  }
}

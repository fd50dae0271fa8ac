/**
 * Ingest jobs: the bulk load of every source (`bulk()`), and applying what changed (`applyJson()`,
 * `applyDatabase()`), used by `ocbridge ingest` and by live mode. Order in bulk: v2 tables, v1 tables,
 * then the JSON tree, so the higher-ranked copy of an ID is stored first and lower-ranked JSON copies
 * are skipped without being read. Unchanged files (size + mtime) and rows (time_updated below the
 * high-water mark) are skipped.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { databaseFingerprint } from '../ingest/db-fingerprint.ts';
import { discoverSources, type Sources } from '../ingest/discover.ts';
import { HeapBudget } from '../ingest/heap-budget.ts';
import { JsonParserPool } from '../ingest/json-pool.ts';
import { JSON_KINDS, type JsonFileRef, listJsonTreeLazy } from '../ingest/json-tree.ts';
import type { IngestProblem } from '../ingest/records.ts';
import { DatabaseSource, SourceUnreadableError } from '../ingest/sqlite.ts';
import { DUCKDB_BUDGETS, HEAP_BUDGETS, PARSER_LIMITS } from '../resources.ts';
import type { FileCheckpoint } from '../store/bookkeeping.ts';
import type { Store } from '../store/db.ts';
import { deriveAfterIngest } from '../store/derive/index.ts';
import { pendingSessions, settleSessions } from '../store/derive-queue.ts';
import type { Entity } from '../store/entities.ts';
import {
  changedFiles,
  clearFolderErrors,
  clearSourceError,
  forgetListing,
  hasFileCheckpoint,
  hasListing,
  listingUnchanged,
  recordListing,
  UNREADABLE_FOLDER,
} from '../store/file-checkpoints.ts';
import { withoutStoredCopies } from '../store/unchanged.ts';
import { StoreWriter, type WriteStats } from '../store/writer.ts';

/** The `source_listings` kind under which a database's fingerprint (src/ingest/db-fingerprint.ts) is kept. */
const DATABASE_LISTING = 'database';

export interface IngestOptions {
  source?: string;
  /** JSON parser threads (default: cores - 1, at least 1; 0 parses on the main thread). */
  workers?: number;
  /** Files per parse chunk. */
  chunkSize?: number;
  onProgress?: (p: Progress) => void;
  /** Derive the analytics model after a bulk load (default true; the benchmark turns it off). */
  derive?: boolean;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
}

export interface IngestSummary {
  sources: Sources;
  stats: WriteStats;
  filesSeen: number;
  filesSkippedUnchanged: number;
  filesParsed: number;
  dbRowsRead: number;
  unreadableSources: string[];
  seconds: number;
}

/** What one application of changes did. */
export interface Applied {
  files: number;
  rows: number;
  /** Files that could not be parsed (maybe half-written); live mode retries them. */
  failed: string[];
}

export class Ingestor {
  readonly writer: StoreWriter;
  readonly summary: IngestSummary;
  private pool: JsonParserPool | null = null;
  private readonly databases = new Map<string, DatabaseSource>();
  private bytesSinceCommit = 0;
  private readonly heap = new HeapBudget(HEAP_BUDGETS.mainMb);
  private readonly progress: (p: Progress) => void;

  constructor(
    private readonly store: Store,
    readonly sources: Sources,
    private readonly opts: IngestOptions = {},
  ) {
    // a JSON file whose ID now lives at another path (a session moved to another project folder)
    // replaces the old copy when the old file is gone
    this.writer = new StoreWriter(store.conn, { holderGone: (p) => p.endsWith('.json') && !existsSync(p) });
    this.progress = opts.onProgress ?? (() => {});
    this.summary = {
      sources,
      stats: this.writer.stats,
      filesSeen: 0,
      filesSkippedUnchanged: 0,
      filesParsed: 0,
      dbRowsRead: 0,
      unreadableSources: [],
      seconds: 0,
    };
  }

  /** Loads everything not yet in the store, in bulk transactions. */
  async bulk(): Promise<IngestSummary> {
    const t0 = performance.now();
    let ok = false;
    await this.store.settings.during(DUCKDB_BUDGETS.bulkLoad, async () => {
      await this.writer.startBulk();
      try {
        for (const dbFile of this.sources.dbFiles) await this.applyDatabase(dbFile);
        if (this.sources.storageDir) await this.ingestJsonTree(this.sources.storageDir);
        // the parser threads' heaps are not kept through the derivation; the pool starts
        // them again for a later large change (small ones are parsed on this thread)
        await this.pool?.close();
        this.progress({ phase: 'deriving', done: 0, total: 0 });
        await this.writer.finalize();
        ok = true;
      } finally {
        await this.writer.endBulk(ok);
      }
    });
    this.heap.collect(); // the load's garbage is not kept through the derivation
    await this.deriveQueued();
    this.summary.seconds = (performance.now() - t0) / 1000;
    return this.summary;
  }

  private async wrote(bytes: number): Promise<void> {
    this.heap.check(); // the chunk just written is garbage now
    this.bytesSinceCommit += bytes;
    // derived columns commit with their rows, so a crash never leaves them stale
    if (this.bytesSinceCommit > PARSER_LIMITS.commitEveryBytes) await this.commitNow();
  }

  /** Commits the bulk transaction now (its derived columns with it). */
  async commitNow(): Promise<void> {
    await this.writer.finalize();
    await this.writer.commitBulk();
    this.bytesSinceCommit = 0;
  }

  /**
   * Reads the rows of one database changed since its high-water marks. `batchSize` rows per write
   * (default 5,000); `commitEach` commits the bulk transaction after every batch (with its high-water
   * mark), so live mode can apply a change too big for one transaction in pieces.
   */
  async applyDatabase(
    dbFile: string,
    o: { batchSize?: number; commitEach?: boolean } = {},
  ): Promise<Applied> {
    const { writer, summary } = this;
    const applied: Applied = { files: 0, rows: 0, failed: [] };
    let src = this.databases.get(dbFile);
    if (!src) {
      src = new DatabaseSource(dbFile);
      this.databases.set(dbFile, src);
    }
    const conn = this.store.conn;
    try {
      if (!src.changed()) return applied;
      // taken before the read: a commit after this point changes it, so the next start reads again
      const fingerprint = databaseFingerprint(dbFile);
      if (!src.replaced && (await listingUnchanged(conn, dbFile, DATABASE_LISTING, 0, fingerprint))) {
        src.unchanged(); // nothing committed since the last complete read: not one row is read
        await clearSourceError(conn, dbFile); // readable again (it was locked the last time)
        return applied;
      }
      // a database replaced by another file (restored, re-imported) is read again from the start
      const since = src.replaced ? {} : await highWaters(this.store, dbFile);
      src.replaced = false;
      let wrote = false;
      for (const batch of src.read({ since, batchSize: o.batchSize })) {
        summary.dbRowsRead += batch.records.length;
        // rows read again at the high-water mark and todo lists: only what differs from the store
        const records = await withoutStoredCopies(conn, batch.records, batch.revisit);
        applied.rows += records.length;
        if (records.length > 0 || batch.problems.length > 0) {
          await writer.writeBatch(records, batch.problems);
          wrote = true;
        }
        if (batch.highWater !== since[batch.table]) {
          await writer.setHighWater(`${dbFile}#${batch.table}`, batch.highWater);
          wrote = true;
        }
        await this.wrote(records.reduce((n, r) => n + r.raw.length, 0));
        if (o.commitEach) await this.commitNow();
        this.progress({ phase: `${batch.source} ${batch.table}`, done: summary.dbRowsRead, total: 0 });
      }
      // Kept with the rows it describes. When the comparison found nothing to write (a checkpoint or a
      // touch changed the file, not its rows), the store is left untouched: DuckDB's checkpoint of even
      // one bookkeeping row moves whole blocks, while comparing again next time is cheap. A store that
      // has no fingerprint of this database yet (one loaded before fingerprints) records it once.
      if (wrote || !(await hasListing(conn, dbFile, DATABASE_LISTING)))
        await recordListing(conn, dbFile, DATABASE_LISTING, 0, fingerprint);
      await clearSourceError(conn, dbFile); // read in full: an earlier "locked" or "cannot open" is over
    } catch (e) {
      if (!(e instanceof SourceUnreadableError)) throw e;
      if (!summary.unreadableSources.includes(dbFile)) summary.unreadableSources.push(dbFile);
      await writer.writeBatch(
        [],
        [{ sourcePath: dbFile, code: 'unreadable_source', severity: 'error', reason: e.message }],
      );
      applied.failed.push(dbFile);
    }
    return applied;
  }

  private parserPool(): JsonParserPool {
    if (!this.pool) {
      this.pool = new JsonParserPool(this.opts.workers ?? PARSER_LIMITS.threads());
    }
    return this.pool;
  }

  private async ingestJsonTree(storageDir: string): Promise<void> {
    const root = resolve(storageDir);
    const tree = await listJsonTreeLazy(storageDir);
    const conn = this.store.conn;
    for (const kind of JSON_KINDS) {
      const files = tree.files(kind);
      this.summary.filesSeen += files;
      // the same listing as the last complete ingest of this kind: nothing to compare file by file
      const digest = tree.digest(kind);
      const unreadable = tree.unreadable(kind);
      if (unreadable.length === 0 && (await listingUnchanged(conn, root, kind, files, digest))) {
        this.summary.filesSkippedUnchanged += files;
        continue;
      }
      const refs = tree.refs(kind);
      await forgetListing(conn, root, kind);
      const applied = await this.applyJson(refs, { phase: `json ${kind}`, recordFailures: true });
      // a folder that cannot be listed is an error of its own (its files are not even known)
      await clearFolderErrors(conn, join(root, kind));
      await this.writer.writeBatch(
        [],
        unreadable.map((u) => ({
          sourcePath: u.path,
          code: 'unreadable_source' as const,
          severity: 'error' as const,
          reason: `${UNREADABLE_FOLDER}: ${u.code} (its files are not stored until it can be read)`,
        })),
      );
      for (const u of unreadable) this.summary.unreadableSources.push(u.path);
      // a file or folder that failed is tried again next time, so its listing is not recorded as done
      if (applied.failed.length === 0 && unreadable.length === 0)
        await recordListing(conn, root, kind, refs.length, digest);
    }
  }

  /**
   * Applies JSON files: skips unchanged ones and copies a database already holds, parses the rest and
   * writes them with their fingerprints. `recordFailures: false` (live mode) leaves unparseable files
   * out of `ingest_errors` so a half-written file can be retried first.
   */
  async applyJson(
    refs: JsonFileRef[],
    o: { phase?: string; recordFailures?: boolean } = {},
  ): Promise<Applied> {
    const { writer, summary } = this;
    // path -> whether the store has a fingerprint for it; unchanged files are not in the map
    const differing = await changedFiles(this.store.conn, refs);
    const applied: Applied = { files: 0, rows: 0, failed: [] };
    const changed: JsonFileRef[] = [];
    const shadowed: FileCheckpoint[] = [];
    // who holds the IDs of the changed files: one lookup per kind, not one per file
    const byKind = new Map<Entity, string[]>();
    for (const ref of refs) {
      if (!differing.has(ref.path) || ref.kind === 'todo' || ref.kind === 'session_diff') continue;
      const ids = byKind.get(ref.kind as Entity) ?? [];
      byKind.set(ref.kind as Entity, ids);
      ids.push(ref.id);
    }
    for (const [entity, ids] of byKind) await writer.prefetchHolders(entity, ids);
    for (const ref of refs) {
      if (!differing.has(ref.path)) {
        summary.filesSkippedUnchanged++;
        continue;
      }
      // a copy of a record that a database already holds is not even read
      const entity = ref.kind as Entity;
      const keyed = ref.kind !== 'todo' && ref.kind !== 'session_diff';
      if (keyed && !(await writer.wouldStore(entity, ref.id, 'json', ref.path))) {
        await writer.recordShadow(entity, ref.id, 'json', ref.path);
        shadowed.push(checkpoint(ref, 'shadowed', differing.get(ref.path) === true));
        continue;
      }
      changed.push(ref);
    }
    if (shadowed.length > 0) await writer.writeBatch([], [], shadowed);
    let done = 0;
    if (changed.length === 0) return applied; // no parser threads started for nothing
    for await (const chunk of this.parserPool().parse(changed, this.opts.chunkSize)) {
      const problems: IngestProblem[] = [];
      const files: FileCheckpoint[] = [];
      chunk.refs.forEach((ref, i) => {
        const fileProblems = chunk.problems[i] ?? [];
        const failed = chunk.recordCounts[i] === 0 && fileProblems.some((p) => p.severity === 'error');
        if (failed) applied.failed.push(ref.path);
        if (failed && o.recordFailures === false) return;
        problems.push(...fileProblems);
        const status = failed ? 'error' : 'ok';
        files.push(checkpoint(ref, status, differing.get(ref.path) === true));
      });
      await writer.writeBatch(chunk.records, problems, files);
      await this.wrote(chunk.refs.reduce((n, r) => n + r.size, 0));
      done += chunk.refs.length;
      summary.filesParsed += chunk.refs.length;
      applied.files += chunk.refs.length;
      applied.rows += chunk.records.length;
      this.progress({ phase: o.phase ?? 'json', done, total: changed.length });
    }
    return applied;
  }

  /**
   * Derives the analytics model for the sessions queued by the writes (and any left over by a crash),
   * then clears them from the queue. Runs after the rows committed; deriving twice is harmless.
   */
  /** The sessions the last deriveQueued() derived (live metrics re-read only those). */
  lastDerived: ReadonlySet<string> = new Set();

  async deriveQueued(conn: DuckDBConnection = this.store.conn): Promise<number> {
    if (this.opts.derive === false) return 0;
    const { sessions, upTo } = await pendingSessions(conn);
    if (sessions.size === 0) return 0;
    await deriveAfterIngest(conn, sessions);
    await settleSessions(conn, upTo);
    this.lastDerived = sessions;
    return sessions.size;
  }

  /**
   * After a failed (rolled back) transaction: forget what was cached about the store's contents, and
   * that the databases were read (their rows are read again from the stored high-water marks).
   */
  invalidate(): void {
    this.writer.invalidate();
    this.bytesSinceCommit = 0;
    for (const d of this.databases.values()) d.forget();
  }

  /** Records that a file is definitely unreadable: invalid JSON after live retries gave up. */
  async recordFailure(ref: JsonFileRef, reason: string): Promise<void> {
    const known = await hasFileCheckpoint(this.store.conn, ref.path);
    await this.writer.writeBatch(
      [],
      [{ sourcePath: ref.path, code: 'invalid_json', severity: 'error', reason }],
      [checkpoint(ref, 'error', known)],
    );
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
    for (const d of this.databases.values()) d.close();
    this.databases.clear();
  }
}

/** One-shot bulk ingest (`ocbridge ingest`). */
export async function runIngest(store: Store, opts: IngestOptions = {}): Promise<IngestSummary> {
  const ingestor = new Ingestor(store, discoverSources(opts.source), opts);
  try {
    return await ingestor.bulk();
  } finally {
    await ingestor.close();
  }
}

function checkpoint(ref: JsonFileRef, status: FileCheckpoint['status'], known: boolean): FileCheckpoint {
  return {
    path: ref.path,
    kind: ref.kind,
    entityId: ref.id,
    size: ref.size,
    mtimeUs: ref.mtimeUs,
    status,
    known,
  };
}

async function highWaters(store: Store, dbFile: string): Promise<Record<string, number>> {
  const rows = (
    await store.conn.runAndReadAll(
      'SELECT source_key, high_water_ms FROM source_state WHERE starts_with(source_key, $1)',
      [`${dbFile}#`],
    )
  ).getRows();
  const out: Record<string, number> = {};
  for (const r of rows) out[String(r[0]).slice(dbFile.length + 1)] = Number(r[1]);
  return out;
}

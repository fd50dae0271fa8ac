/**
 * The bulk ingest job: every source → the store, skipping what is unchanged since the last run.
 * Order: v2 tables, v1 tables, then the JSON tree, so the higher-ranked copy of an ID is stored first
 * and lower-ranked JSON copies are skipped without being read.
 */
import { availableParallelism } from 'node:os';
import { discoverSources, type Sources } from '../ingest/discover.ts';
import { JsonParserPool } from '../ingest/json-pool.ts';
import { JSON_KINDS, type JsonFileRef, listJsonFiles } from '../ingest/json-tree.ts';
import type { IngestProblem } from '../ingest/records.ts';
import { readDatabase, SourceUnreadableError } from '../ingest/sqlite.ts';
import type { Store } from '../store/db.ts';
import { type Entity, type FileCheckpoint, StoreWriter, type WriteStats } from '../store/writer.ts';

/** Commit the bulk transaction after this much input, so a crash loses at most this much work. */
const COMMIT_EVERY_BYTES = 128 * 1024 * 1024;

export interface IngestOptions {
  source?: string;
  /** JSON parser threads (default: cores - 1, at least 1; 0 parses on the main thread). */
  workers?: number;
  /** Files per parse chunk. */
  chunkSize?: number;
  onProgress?: (p: Progress) => void;
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

type FileStamp = { size: number; mtimeMs: number; status: string };

export async function runIngest(store: Store, opts: IngestOptions = {}): Promise<IngestSummary> {
  const t0 = performance.now();
  const sources = discoverSources(opts.source);
  const writer = new StoreWriter(store.conn);
  const summary: IngestSummary = {
    sources,
    stats: writer.stats,
    filesSeen: 0,
    filesSkippedUnchanged: 0,
    filesParsed: 0,
    dbRowsRead: 0,
    unreadableSources: [],
    seconds: 0,
  };
  const ctx: JobContext = {
    store,
    writer,
    summary,
    opts,
    progress: opts.onProgress ?? (() => {}),
    bytesSinceCommit: 0,
  };
  let ok = false;
  await writer.startBulk();
  try {
    for (const dbFile of sources.dbFiles) await ingestDatabase(ctx, dbFile);
    if (sources.storageDir) await ingestJsonTree(ctx, sources.storageDir);
    ok = true;
  } finally {
    await writer.endBulk(ok);
  }
  ctx.progress({ phase: 'deriving', done: 0, total: 0 });
  await writer.finalize();
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

interface JobContext {
  store: Store;
  writer: StoreWriter;
  summary: IngestSummary;
  opts: IngestOptions;
  progress: (p: Progress) => void;
  bytesSinceCommit: number;
}

async function wrote(ctx: JobContext, bytes: number): Promise<void> {
  ctx.bytesSinceCommit += bytes;
  if (ctx.bytesSinceCommit > COMMIT_EVERY_BYTES) {
    await ctx.writer.commitBulk();
    ctx.bytesSinceCommit = 0;
  }
}

async function ingestDatabase(ctx: JobContext, dbFile: string): Promise<void> {
  const { writer, summary } = ctx;
  const since = await highWaters(ctx.store, dbFile);
  try {
    for (const batch of readDatabase(dbFile, { since })) {
      summary.dbRowsRead += batch.records.length;
      await writer.writeBatch(batch.records, batch.problems);
      await writer.setHighWater(`${dbFile}#${batch.table}`, batch.highWater);
      await wrote(
        ctx,
        batch.records.reduce((n, r) => n + r.raw.length, 0),
      );
      ctx.progress({ phase: `${batch.source} ${batch.table}`, done: summary.dbRowsRead, total: 0 });
    }
  } catch (e) {
    if (!(e instanceof SourceUnreadableError)) throw e;
    summary.unreadableSources.push(dbFile);
    await writer.writeBatch([], [{ sourcePath: dbFile, severity: 'error', reason: e.message }]);
  }
}

async function ingestJsonTree(ctx: JobContext, storageDir: string): Promise<void> {
  const { writer, summary } = ctx;
  const known = await fileCheckpoints(ctx.store);
  const pool = new JsonParserPool(ctx.opts.workers ?? Math.max(1, Math.min(4, availableParallelism() - 1)));
  try {
    for (const kind of JSON_KINDS) {
      const refs = listJsonFiles(storageDir, kind);
      summary.filesSeen += refs.length;
      const changed: JsonFileRef[] = [];
      const shadowed: FileCheckpoint[] = [];
      for (const ref of refs) {
        const k = known.get(ref.path);
        if (k && k.size === ref.size && k.mtimeMs === ref.mtimeMs && k.status !== 'error') {
          summary.filesSkippedUnchanged++;
          continue;
        }
        // a copy of a record that a database already holds is not even read
        const entity = kind as Entity;
        const keyed = kind !== 'todo' && kind !== 'session_diff';
        if (keyed && !(await writer.wouldStore(entity, ref.id, 'json', ref.path))) {
          await writer.recordShadow(entity, ref.id, 'json', ref.path);
          shadowed.push(checkpoint(ref, 'shadowed', known.has(ref.path)));
          continue;
        }
        changed.push(ref);
      }
      if (shadowed.length > 0) await writer.writeBatch([], [], shadowed);
      let done = 0;
      for await (const chunk of pool.parse(changed, ctx.opts.chunkSize)) {
        const problems: IngestProblem[] = [];
        const files: FileCheckpoint[] = [];
        chunk.refs.forEach((ref, i) => {
          const fileProblems = chunk.problems[i] ?? [];
          problems.push(...fileProblems);
          const failed = chunk.recordCounts[i] === 0 && fileProblems.some((p) => p.severity === 'error');
          files.push(checkpoint(ref, failed ? 'error' : 'ok', known.has(ref.path)));
        });
        await writer.writeBatch(chunk.records, problems, files);
        await wrote(
          ctx,
          chunk.refs.reduce((n, r) => n + r.size, 0),
        );
        done += chunk.refs.length;
        summary.filesParsed += chunk.refs.length;
        ctx.progress({ phase: `json ${kind}`, done, total: changed.length });
      }
    }
  } finally {
    await pool.close();
  }
}

function checkpoint(ref: JsonFileRef, status: FileCheckpoint['status'], known: boolean): FileCheckpoint {
  return {
    path: ref.path,
    kind: ref.kind,
    entityId: ref.id,
    size: ref.size,
    mtimeMs: ref.mtimeMs,
    status,
    known,
  };
}

async function fileCheckpoints(store: Store): Promise<Map<string, FileStamp>> {
  const reader = await store.conn.streamAndReadAll('SELECT path, size, mtime_ms, status FROM source_files');
  const m = new Map<string, FileStamp>();
  for (const r of reader.getRows())
    m.set(String(r[0]), { size: Number(r[1]), mtimeMs: Number(r[2]), status: String(r[3]) });
  return m;
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

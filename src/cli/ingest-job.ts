/**
 * The bulk ingest job: every source → the store, skipping what is unchanged since the last run.
 * Order: v2 tables, v1 tables, then the JSON tree, so the higher-ranked copy of an ID is stored first
 * and lower-ranked JSON copies are skipped without being read.
 */
import { availableParallelism } from 'node:os';
import { discoverSources, type Sources } from '../ingest/discover.ts';
import { parseFiles } from '../ingest/json-pool.ts';
import { JSON_KINDS, type JsonFileRef, listJsonFiles } from '../ingest/json-tree.ts';
import type { IngestProblem, IngestRecord } from '../ingest/records.ts';
import { readDatabase, SourceUnreadableError } from '../ingest/sqlite.ts';
import type { Store } from '../store/db.ts';
import { type Entity, type FileCheckpoint, StoreWriter, type WriteStats } from '../store/writer.ts';

export interface IngestOptions {
  source?: string;
  workers?: number;
  /** Files per parse chunk (and per write transaction). */
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

export async function runIngest(store: Store, opts: IngestOptions = {}): Promise<IngestSummary> {
  const t0 = performance.now();
  const sources = discoverSources(opts.source);
  const writer = new StoreWriter(store.conn);
  const progress = opts.onProgress ?? (() => {});
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

  for (const dbFile of sources.dbFiles) {
    const since = await highWaters(store, dbFile);
    try {
      for (const batch of readDatabase(dbFile, { since })) {
        summary.dbRowsRead += batch.records.length;
        await writer.writeBatch(batch.records, batch.problems);
        await writer.setHighWater(`${dbFile}#${batch.table}`, batch.highWater);
        progress({ phase: `${batch.source} ${batch.table}`, done: summary.dbRowsRead, total: 0 });
      }
    } catch (e) {
      if (!(e instanceof SourceUnreadableError)) throw e;
      summary.unreadableSources.push(dbFile);
      await writer.writeBatch([], [{ sourcePath: dbFile, severity: 'error', reason: e.message }]);
    }
  }

  if (sources.storageDir) {
    const known = await fileCheckpoints(store);
    const workers = opts.workers ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    for (const kind of JSON_KINDS) {
      const refs = listJsonFiles(sources.storageDir, kind);
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
        if (
          kind !== 'todo' &&
          kind !== 'session_diff' &&
          !(await writer.wouldStore(entity, ref.id, 'json', ref.path))
        ) {
          await writer.recordShadow(entity, ref.id, 'json', ref.path);
          shadowed.push(checkpoint(ref, 'shadowed'));
          continue;
        }
        changed.push(ref);
      }
      if (shadowed.length > 0) await writer.writeBatch([], [], shadowed);
      let done = 0;
      for await (const chunk of parseFiles(changed, { workers, chunkSize: opts.chunkSize })) {
        const records: IngestRecord[] = [];
        const problems: IngestProblem[] = [];
        const files: FileCheckpoint[] = [];
        chunk.results.forEach((r, i) => {
          const ref = chunk.refs[i] as JsonFileRef;
          records.push(...r.records);
          problems.push(...r.problems);
          files.push(
            checkpoint(
              ref,
              r.records.length === 0 && r.problems.some((p) => p.severity === 'error') ? 'error' : 'ok',
            ),
          );
        });
        await writer.writeBatch(records, problems, files);
        done += chunk.refs.length;
        summary.filesParsed += chunk.refs.length;
        progress({ phase: `json ${kind}`, done, total: changed.length });
      }
    }
  }
  progress({ phase: 'deriving', done: 0, total: 0 });
  await writer.finalize();
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

function checkpoint(ref: JsonFileRef, status: FileCheckpoint['status']): FileCheckpoint {
  return { path: ref.path, kind: ref.kind, entityId: ref.id, size: ref.size, mtimeMs: ref.mtimeMs, status };
}

async function fileCheckpoints(
  store: Store,
): Promise<Map<string, { size: number; mtimeMs: number; status: string }>> {
  const reader = await store.conn.streamAndReadAll('SELECT path, size, mtime_ms, status FROM source_files');
  const m = new Map<string, { size: number; mtimeMs: number; status: string }>();
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

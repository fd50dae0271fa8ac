/**
 * What the writer records about its sources besides their rows: lower-ranked copies (`source_shadows`),
 * problems (`ingest_errors`, cleared when the input later ingests cleanly), file fingerprints
 * (`source_files`) and database high-water marks (`source_state`).
 */
import { type DuckDBConnection, listValue } from '@duckdb/node-api';
import type { IngestProblem, SourceKind } from '../ingest/records.ts';
import { appendRows } from './appender.ts';
import type { Col } from './columns.ts';
import type { Entity } from './entities.ts';

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

export interface Shadow {
  entity: Entity;
  id: string;
  source: SourceKind;
  sourcePath: string;
  winner: SourceKind;
}

/** The counters the bookkeeping keeps up to date (part of the writer's `WriteStats`). */
export interface ProblemStats {
  errors: number;
  warnings: number;
  problems: Record<string, number>;
}

export const BOOKKEEPING_TEMP_TABLES = [
  'CREATE TEMP TABLE IF NOT EXISTS tmp_shadows (entity VARCHAR, entity_id VARCHAR, source VARCHAR, source_path VARCHAR, winner_source VARCHAR)',
  'CREATE TEMP TABLE IF NOT EXISTS tmp_errors (source_path VARCHAR, reason VARCHAR, severity VARCHAR)',
] as const;

export class SourceBookkeeping {
  private pendingShadows: Shadow[] = [];
  /** rows in ingest_errors (-1: not looked up yet); at 0 a clean file has no error to clear */
  private ingestErrorCount = -1;

  constructor(private readonly conn: DuckDBConnection) {}

  /** Notes a lower-ranked (or replaced) copy; written by the next `flush`. */
  shadow(s: Shadow): void {
    this.pendingShadows.push(s);
  }

  /** Writes the shadows noted so far, the batch's problems and file checkpoints (inside the caller's transaction). */
  async flush(problems: IngestProblem[], files: FileCheckpoint[], stats: ProblemStats): Promise<void> {
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
        p.severity === 'error' ? stats.errors++ : stats.warnings++;
        const k = p.code;
        stats.problems[k] = (stats.problems[k] ?? 0) + 1;
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

  /** Forgets what was pending or counted, after a rolled-back transaction. */
  invalidate(): void {
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
}

const shadowCols: readonly Col<Shadow>[] = [
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

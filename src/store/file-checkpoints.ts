/**
 * File fingerprints (`source_files`: size + mtime in µs) compared inside DuckDB, so a re-ingest of an
 * unchanged tree never turns ~230K stored paths into JavaScript strings: the listing goes in through
 * the Appender and only the files that differ come back.
 */
import { sep } from 'node:path';
import { type DuckDBConnection, listValue } from '@duckdb/node-api';

const SMALL = 2000;
const DIFFERS = "f.path IS NULL OR f.size <> l.size OR f.mtime_us <> l.mtime_us OR f.status = 'error'";

export interface FileStampIn {
  path: string;
  size: number;
  mtimeUs: number;
}

/**
 * The files of `listing` whose stored fingerprint differs (or that are new, or stored as failed).
 * Value: whether the store already has a row for the path.
 */
export async function changedFiles(
  conn: DuckDBConnection,
  listing: readonly FileStampIn[],
): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  if (listing.length === 0) return out;
  if (listing.length <= SMALL) {
    // live mode: a few files per batch, no temp table churn
    const reader = await conn.runAndReadAll(
      `SELECT l.path, f.path IS NOT NULL
         FROM (SELECT unnest($1::VARCHAR[]) AS path, unnest($2::BIGINT[]) AS size,
                      unnest($3::BIGINT[]) AS mtime_us) l
         LEFT JOIN source_files f ON f.path = l.path
        WHERE ${DIFFERS}`,
      [
        listValue(listing.map((f) => f.path)),
        listValue(listing.map((f) => f.size)),
        listValue(listing.map((f) => f.mtimeUs)),
      ],
    );
    for (const [path, known] of reader.getRows()) out.set(String(path), Boolean(known));
    return out;
  }
  // a first ingest: nothing to compare with (and no ~230K-row temp table to hold in memory)
  const stored = await conn.runAndReadAll('SELECT 1 FROM source_files LIMIT 1');
  if (stored.currentRowCount === 0) {
    for (const f of listing) out.set(f.path, false);
    return out;
  }
  await conn.run('CREATE OR REPLACE TEMP TABLE file_listing (path VARCHAR, size BIGINT, mtime_us BIGINT)');
  try {
    const a = await conn.createAppender('file_listing', 'main', 'temp');
    try {
      for (const f of listing) {
        a.appendVarchar(f.path);
        a.appendBigInt(BigInt(f.size));
        a.appendBigInt(BigInt(f.mtimeUs));
        a.endRow();
      }
      a.flushSync();
    } catch (e) {
      a.clear(); // else closing or collecting it flushes the rows into a later transaction
      throw e;
    } finally {
      try {
        a.closeSync();
      } catch {
        // cleared: the error that matters is the first one
      }
    }
    const reader = await conn.runAndReadAll(
      `SELECT l.path, f.path IS NOT NULL
         FROM temp.file_listing l LEFT JOIN source_files f ON f.path = l.path
        WHERE ${DIFFERS}`,
    );
    for (const [path, known] of reader.getRows()) out.set(String(path), Boolean(known));
  } finally {
    await conn.run('DROP TABLE IF EXISTS temp.file_listing');
  }
  return out;
}

/** Whether the store has a fingerprint row for this path. */
export async function hasFileCheckpoint(conn: DuckDBConnection, path: string): Promise<boolean> {
  const r = await conn.runAndReadAll('SELECT 1 FROM source_files WHERE path = $1', [path]);
  return r.currentRowCount > 0;
}

/**
 * Listing fingerprints (`source_listings`): a digest of every (path, size, mtime) of one folder kind
 * of a JSON tree, recorded after an ingest of that kind in which every file was stored. A re-ingest
 * whose listing has the same digest skips the per-file comparison (and its ~230K-row append) at
 * once. Any change to a file, a new or a removed file changes the digest; then the per-file
 * comparison above decides as before.
 */
export async function listingUnchanged(
  conn: DuckDBConnection,
  root: string,
  kind: string,
  files: number,
  digest: string,
): Promise<boolean> {
  const r = await conn.runAndReadAll(
    'SELECT 1 FROM source_listings WHERE root = $1 AND kind = $2 AND files = $3 AND digest = $4',
    [root, kind, files, digest],
  );
  return r.currentRowCount > 0;
}

/** True when any fingerprint of this root and kind is recorded (whatever its digest). */
export async function hasListing(conn: DuckDBConnection, root: string, kind: string): Promise<boolean> {
  const r = await conn.runAndReadAll('SELECT 1 FROM source_listings WHERE root = $1 AND kind = $2', [
    root,
    kind,
  ]);
  return r.currentRowCount > 0;
}

export async function recordListing(
  conn: DuckDBConnection,
  root: string,
  kind: string,
  files: number,
  digest: string,
): Promise<void> {
  await conn.run(`INSERT OR REPLACE INTO source_listings VALUES ($1, $2, $3, $4, now()::TIMESTAMP)`, [
    root,
    kind,
    files,
    digest,
  ]);
}

/** Forgets the listing fingerprint of a kind (before its files are applied: a crash then means a full comparison). */
export async function forgetListing(conn: DuckDBConnection, root: string, kind: string): Promise<void> {
  await conn.run('DELETE FROM source_listings WHERE root = $1 AND kind = $2', [root, kind]);
}

/** The reason of an `ingest_errors` row for a folder of the JSON tree that cannot be listed. */
export const UNREADABLE_FOLDER = 'unreadable folder';

/**
 * Clears the unreadable-folder rows under a kind's folder (before the kind's listing records the ones
 * still unreadable): a folder that can be listed again stops being an error.
 */
export async function clearFolderErrors(conn: DuckDBConnection, kindDir: string): Promise<void> {
  await conn.run(
    `DELETE FROM ingest_errors WHERE (source_path = $1 OR starts_with(source_path, $1 || $3))
       AND starts_with(reason, $2)`,
    [kindDir, UNREADABLE_FOLDER, sep],
  );
}

/**
 * Clears the error row of a source that was just read in full (a database that was locked, or could
 * not be opened, the last time): looked up first, so a read that had no error writes nothing.
 */
export async function clearSourceError(conn: DuckDBConnection, path: string): Promise<void> {
  const r = await conn.runAndReadAll('SELECT 1 FROM ingest_errors WHERE source_path = $1', [path]);
  if (r.currentRowCount > 0) await conn.run('DELETE FROM ingest_errors WHERE source_path = $1', [path]);
}

/**
 * Consistent copies of the store. `backupStore` reads one snapshot (its own connection, its own
 * transaction: DuckDB's MVCC keeps concurrent writers out of it) and writes a complete DuckDB file with
 * `COPY FROM DATABASE` (tables with their keys, views, sequences), so a backup taken while
 * `ocbridge run` applies changes is a store as of one commit. The file appears only when complete.
 * `restoreStore` puts a backup in place of a store that no process holds.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, resolve } from 'node:path';
import { type DuckDBInstance, DuckDBInstance as Instance } from '@duckdb/node-api';
import { openStore, STORAGE_VERSION } from './db.ts';
import { appliedVersions } from './migrate.ts';

export interface BackupResult {
  path: string;
  bytes: number;
  ms: number;
  tables: number;
}

const quoteIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;
const quoteStr = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Writes a consistent copy of the store held by `store.instance` to `outPath` (replaced if it exists).
 * Safe to call from the process that writes the store (e.g. a running bridge): it never uses the
 * writer's connection.
 */
export async function backupStore(
  store: { instance: DuckDBInstance },
  outPath: string,
): Promise<BackupResult> {
  const t0 = performance.now();
  const tmp = `${outPath}.partial-${process.pid}`;
  rmSync(tmp, { force: true });
  rmSync(`${tmp}.wal`, { force: true });
  const conn = await store.instance.connect();
  const alias = 'ocbridge_backup';
  try {
    const [src, srcPath] = (
      await conn.runAndReadAll(
        'SELECT database_name, path FROM duckdb_databases() WHERE database_name = current_database()',
      )
    ).getRowsJS()[0] as [string, string | null];
    if (srcPath && resolve(srcPath) === resolve(outPath))
      throw new Error(`the backup would replace the store itself: ${outPath}`);
    // the store's own format (raw JSON compressed)
    await conn.run(`ATTACH ${quoteStr(tmp)} AS ${alias} (READ_WRITE, STORAGE_VERSION '${STORAGE_VERSION}')`);
    try {
      await conn.run('BEGIN TRANSACTION');
      try {
        await conn.run(`COPY FROM DATABASE ${quoteIdent(src)} TO ${alias}`);
        // DuckDB 1.5 copies a used sequence so that its next value repeats the last one handed out;
        // take that value once, so the restored store continues after it (a gap is harmless)
        const seqs = await conn.runAndReadAll(
          `SELECT schema_name, sequence_name FROM duckdb_sequences() WHERE database_name = '${alias}' AND last_value IS NOT NULL`,
        );
        for (const [schema, name] of seqs.getRowsJS())
          await conn.run(`SELECT nextval('${alias}.${String(schema)}.${String(name)}')`);
        await conn.run('COMMIT');
      } catch (e) {
        await conn.run('ROLLBACK');
        throw e;
      }
      await conn.run(`CHECKPOINT ${alias}`);
    } finally {
      await conn.run(`DETACH ${alias}`);
    }
    const tables = Number(
      (
        await conn.runAndReadAll(
          'SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary',
        )
      ).getRows()[0]?.[0],
    );
    renameSync(tmp, outPath);
    rmSync(`${tmp}.wal`, { force: true });
    // the file's checksum beside it (sha256sum's format): restore refuses a copy that differs
    writeFileSync(checksumPath(outPath), `${await fileSha256(outPath)}  ${basename(outPath)}\n`);
    return { path: outPath, bytes: statSync(outPath).size, ms: Math.round(performance.now() - t0), tables };
  } catch (e) {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.wal`, { force: true });
    throw e;
  } finally {
    conn.closeSync();
  }
}

/** The checksum file written beside a backup (`sha256sum -c` reads it). */
export const checksumPath = (backup: string) => `${backup}.sha256`;

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Checks a backup whole before anything is replaced: its checksum file, when there is one, matches
 * the bytes; it opens as an ocbridge store; and every row of every table can be read (DuckDB checks
 * each block's own checksum as it reads it, so a truncated or damaged file fails here). Returns the
 * newest migration it has and the file's SHA-256.
 */
export async function verifyBackup(from: string): Promise<{ version: number; sha256: string }> {
  const damaged = (why: string) =>
    new Error(`${from} is damaged or incomplete (${why}); nothing was replaced`);
  const sums = checksumPath(from);
  const sha256 = await fileSha256(from);
  if (existsSync(sums) && readFileSync(sums, 'utf8').trim().split(/\s+/)[0] !== sha256)
    throw damaged(`its checksum does not match ${sums}`);
  let inst: DuckDBInstance;
  try {
    inst = await Instance.create(from, { access_mode: 'READ_ONLY' });
  } catch (e) {
    throw new Error(`${from} is not a DuckDB file ocbridge can open: ${(e as Error).message.split('\n')[0]}`);
  }
  const conn = await inst.connect();
  try {
    const has = (
      await conn.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations'")
    ).getRows()[0]?.[0];
    if (Number(has) === 0) throw new Error(`${from} is not an ocbridge store (no schema_migrations table)`);
    const tables = (
      await conn.runAndReadAll(
        'SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary ORDER BY ALL',
      )
    ).getRowsJS() as [string, string][];
    for (const [schema, table] of tables) {
      try {
        // every column of every row: hashing the row reads each of its blocks
        await conn.run(`SELECT count(*), sum(hash(t)) FROM ${quoteIdent(schema)}.${quoteIdent(table)} AS t`);
      } catch (e) {
        throw damaged(`table ${table} cannot be read: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    const version = Number(
      (await conn.runAndReadAll('SELECT coalesce(max(version), 0) FROM schema_migrations')).getRows()[0]?.[0],
    );
    return { version, sha256 };
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** Backs up a store file no process holds (opened read-only for the copy). */
export async function backupStoreFile(dbPath: string, outPath: string): Promise<BackupResult> {
  if (!existsSync(dbPath)) throw new Error(`no store at ${dbPath}`);
  const store = await openStore(dbPath, { readOnly: true });
  try {
    return await backupStore(store, outPath);
  } finally {
    store.close();
  }
}

export interface RestoreResult {
  path: string;
  bytes: number;
  /** the newest migration the backup had */
  backupVersion: number;
  /** migrations applied after restoring (a backup from an older version is brought up to date) */
  migrated: number[];
}

/**
 * Replaces the store at `dbPath` with the backup `from`. Refuses when a store exists there unless
 * `force`, and when a process holds it (DuckDB's lock). The backup is verified whole first
 * (`verifyBackup`), and the copy put in place is checked against it before the rename.
 */
export async function restoreStore(
  from: string,
  dbPath: string,
  opts: { force?: boolean } = {},
): Promise<RestoreResult> {
  if (!existsSync(from)) throw new Error(`no backup at ${from}`);
  const { version: backupVersion, sha256 } = await verifyBackup(from);
  if (existsSync(dbPath)) {
    if (!opts.force) throw new Error(`a store exists at ${dbPath}; pass --force to replace it`);
    // fails with StoreLockedError while a process holds it
    (await openStore(dbPath, { migrate: false })).close();
  }
  const tmp = `${dbPath}.restore-${process.pid}`;
  copyFileSync(from, tmp);
  if ((await fileSha256(tmp)) !== sha256) {
    rmSync(tmp, { force: true });
    throw new Error(`the copy of ${from} differs from it (disk full?); nothing was replaced`);
  }
  rmSync(`${dbPath}.wal`, { force: true });
  renameSync(tmp, dbPath);
  const store = await openStore(dbPath);
  let migrated: number[] = [];
  try {
    const after = await appliedVersions(store.conn);
    migrated = [...after.keys()].filter((v) => v > backupVersion).sort((a, b) => a - b);
  } finally {
    store.close();
  }
  return { path: dbPath, bytes: statSync(dbPath).size, backupVersion, migrated };
}

export const backupName = (dbPath: string, now = new Date()) =>
  `${basename(dbPath, '.duckdb')}-${now.toISOString().replace(/[:.]/g, '-')}.duckdb`;

/** Opening the DuckDB store: one writer process, read-only opens for queries. */
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_BUDGETS } from '../resources.ts';
import { migrateUp } from './migrate.ts';
import { StoreSettings } from './settings.ts';

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'ocbridge', 'ocbridge.duckdb');
}

export class StoreLockedError extends Error {
  constructor(path: string, cause: string) {
    super(
      `the store ${path} is open in another process (DuckDB allows one writer). ` +
        `Stop the other ocbridge, or use --db to pick another file. (${cause})`,
    );
  }
}

/** The --db file is missing (for a reader) or is not a store: the message says what to do instead. */
export class StoreFileError extends Error {}

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Checks the store file before DuckDB sees it (DuckDB would try to load its SQLite extension). */
export function checkStoreFile(path: string, readOnly: boolean): void {
  let head: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      head = Buffer.alloc(16);
      head = head.subarray(0, readSync(fd, head, 0, 16, 0));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && readOnly)
      throw new StoreFileError(`no store at ${path}: create it with: ocbridge ingest --db ${path}`);
    if (code === 'ENOENT' || code === 'EISDIR') {
      if (code === 'EISDIR')
        throw new StoreFileError(
          `${path} is a directory: give --db a file (e.g. ${join(path, 'ocbridge.duckdb')})`,
        );
      return;
    }
    throw e;
  }
  if (head.toString('latin1') === SQLITE_MAGIC)
    throw new StoreFileError(
      `${path} is a SQLite database (OpenCode's opencode.db?), not an ocbridge store: read it with --source ${path} and leave --db to the store (default ${defaultDbPath()})`,
    );
  if (head.length >= 12 && head.subarray(8, 12).toString('latin1') !== 'DUCK')
    throw new StoreFileError(
      `${path} is not an ocbridge store (not a DuckDB file): give --db a store file, or a new path`,
    );
}

export interface Store {
  path: string;
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  /** the only way to change the instance's DuckDB settings while it runs */
  settings: StoreSettings;
  close(): void;
}

export interface OpenOptions {
  readOnly?: boolean;
  /** Apply pending migrations on open (default true for writers). */
  migrate?: boolean;
  memoryLimit?: string;
  threads?: number;
}

/** The name the store's file is attached under (every connection `USE`s it). */
export const STORE_CATALOG = 'store';

/**
 * Rows per row group. DuckDB's default (122,880) makes every commit of a growing table append to one
 * big last row group, which the next checkpoint rewrites whole: with raw JSON parts that is hundreds
 * of MB per commit, spilled through temp files. 2,048 rows (one vector) keep that tail small
 * (measurements: docs/perf-log.md).
 * It is an ATTACH option that is not stored in the file, so the store is always attached, never opened
 * as the instance's main database.
 */
export const ROW_GROUP_SIZE = 2048;

/**
 * The storage format new writes use. DuckDB writes files readable by 1.0 unless told otherwise, and in
 * that format long strings (the raw JSON: ~90% of the bytes) are stored uncompressed; from v1.2.0 on
 * it compresses them with ZSTD, chosen on its own per segment (docs/architecture.md, "Store size":
 * the store is ~1/3 of its source instead of ~1.5x). v1.2.0 is the oldest format with it, so any
 * DuckDB from 1.2 can still open the store. An older store attached this way keeps its old row groups
 * as they are and writes new ones compressed (`ocbridge backup` + `restore` rewrites them all).
 */
export const STORAGE_VERSION = 'v1.2.0';

/**
 * The store holds every prompt and output: readable by its owner only. Folders the bridge creates are
 * 0700, and a store opened for writing (with its WAL) loses any group and other bits it had (a store
 * created before this rule, or by another umask); new files get 0600 from the CLI's umask (main.ts).
 */
function makePrivate(path: string): void {
  for (const p of [path, `${path}.wal`]) {
    try {
      const mode = statSync(p).mode & 0o777;
      if (mode & 0o077) chmodSync(p, mode & 0o700);
    } catch {
      // not there (yet), or not ours to change
    }
  }
}

/**
 * Where the instance spills what does not fit its memory limit. DuckDB's default for an in-memory
 * instance is `.tmp` of the working directory, shared by every process started there: two bridges
 * (or parallel test files) overwrote each other's spill files ("Could not read enough bytes", a
 * segfault). The writer spills beside its store (one writer per store, and the disk the user chose
 * for it); a reader into a folder of its own under the system's temp dir. DuckDB creates the folder
 * when it first spills and removes it when the instance closes.
 */
export function spillDirectory(path: string, readOnly: boolean): string {
  return readOnly ? join(tmpdir(), `ocbridge-spill-${process.pid}-${randomUUID()}`) : `${path}.tmp`;
}

export async function openStore(path: string, opts: OpenOptions = {}): Promise<Store> {
  checkStoreFile(path, opts.readOnly === true);
  if (!opts.readOnly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const config: Record<string, string> = {
    preserve_insertion_order: 'false',
    memory_limit: opts.memoryLimit ?? DUCKDB_BUDGETS.storeMemoryLimit,
    temp_directory: spillDirectory(path, opts.readOnly === true),
  };
  if (opts.threads) config.threads = String(opts.threads);
  const instance = await DuckDBInstance.create(':memory:', config);
  // every connection of this instance, wherever it is made, works in the store's catalog
  const connect = instance.connect.bind(instance);
  instance.connect = async () => {
    const c = await connect();
    await c.run(`USE ${STORE_CATALOG}`);
    return c;
  };
  const conn = await connect();
  try {
    const mode = opts.readOnly ? 'READ_ONLY' : `READ_WRITE, STORAGE_VERSION '${STORAGE_VERSION}'`;
    await conn.run(
      `ATTACH '${path.replaceAll("'", "''")}' AS ${STORE_CATALOG} (${mode}, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
    );
    await conn.run(`USE ${STORE_CATALOG}`);
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) throw new StoreLockedError(path, msg.split('\n')[0] ?? msg);
    throw new Error(`cannot open the store ${path}: ${msg}`);
  }
  if (!opts.readOnly) makePrivate(path);
  if (!opts.readOnly && opts.migrate !== false) await migrateUp(conn);
  const settings = new StoreSettings(instance, { memory_limit: config.memory_limit as string });
  return {
    path,
    instance,
    conn,
    settings,
    close() {
      settings.close();
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * True for a DuckDB error after which the instance must not be used any more: "database has been
 * invalidated" and other FATAL or INTERNAL errors (every later statement fails), and a failed COMMIT.
 * A commit that ran out of memory leaves the in-memory primary-key index of @duckdb/node-api
 * 1.5.6-r.1 damaged: retrying the same batch then raised "Corrupted unique ART index
 * PRIMARY_parts_0" and invalidated the database (docs/architecture.md, "Live mode"). A new instance
 * reads the index back from the file, so the way on is a restart.
 */
export function isFatalDuckDbError(e: unknown): boolean {
  const m = e instanceof Error ? e.message : String(e);
  return /database has been invalidated|FATAL Error|INTERNAL Error|Failed to commit/i.test(m);
}

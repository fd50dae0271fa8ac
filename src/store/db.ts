/** Opening the DuckDB store: one writer process, read-only opens for queries. */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
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
 * big last row group, which the next checkpoint rewrites whole: with raw JSON parts (~7 KB a row) that
 * is up to ~860 MB per commit, spilled through temp files. 2,048 rows (one vector) keep that tail small:
 * a full-scale ingest commits in ~7 s instead of ~45 s (docs/architecture.md, "Decisions and measurements").
 * It is an ATTACH option that is not stored in the file, so the store is always attached, never opened
 * as the instance's main database.
 */
export const ROW_GROUP_SIZE = 2048;

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

export async function openStore(path: string, opts: OpenOptions = {}): Promise<Store> {
  if (!opts.readOnly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const config: Record<string, string> = {
    preserve_insertion_order: 'false',
    memory_limit: opts.memoryLimit ?? DUCKDB_BUDGETS.storeMemoryLimit,
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
    const mode = opts.readOnly ? 'READ_ONLY' : 'READ_WRITE';
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

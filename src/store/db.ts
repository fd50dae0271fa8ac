/** Opening the DuckDB store: one writer process, read-only opens for queries. */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { migrateUp } from './migrate.ts';

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
  close(): void;
}

export interface OpenOptions {
  readOnly?: boolean;
  /** Apply pending migrations on open (default true for writers). */
  migrate?: boolean;
  memoryLimit?: string;
  threads?: number;
}

export async function openStore(path: string, opts: OpenOptions = {}): Promise<Store> {
  if (!opts.readOnly) mkdirSync(dirname(path), { recursive: true });
  const config: Record<string, string> = {
    preserve_insertion_order: 'false',
    memory_limit: opts.memoryLimit ?? '384MB',
  };
  if (opts.threads) config.threads = String(opts.threads);
  if (opts.readOnly) config.access_mode = 'READ_ONLY';
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, config);
  } catch (e) {
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) throw new StoreLockedError(path, msg.split('\n')[0] ?? msg);
    throw new Error(`cannot open the store ${path}: ${msg}`);
  }
  const conn = await instance.connect();
  if (!opts.readOnly && opts.migrate !== false) await migrateUp(conn);
  return {
    path,
    instance,
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

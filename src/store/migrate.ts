/** Versioned migrations, each with an up and a tested down step. */

import type { DuckDBConnection } from '@duckdb/node-api';
import { m001 } from './migrations/001_core.ts';
import { m002 } from './migrations/002_analytics.ts';
import { m010 } from './migrations/010_export_ledger.ts';
import { m012 } from './migrations/012_health_history.ts';
import { m013 } from './migrations/013_source_listings.ts';
import { m014 } from './migrations/014_exchange_span_rows.ts';
import { inTransaction } from './transaction.ts';

export interface Migration {
  version: number;
  name: string;
  up: string[];
  down: string[];
}

export const MIGRATIONS: readonly Migration[] = [m001, m002, m010, m012, m013, m014];

export interface MigrationStatus {
  version: number;
  name: string;
  appliedAt: string | null;
}

async function ensureTable(conn: DuckDBConnection): Promise<void> {
  await conn.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)',
  );
}

export async function appliedVersions(conn: DuckDBConnection): Promise<Map<number, string>> {
  await ensureTable(conn);
  const rows = (
    await conn.runAndReadAll('SELECT version, CAST(applied_at AS VARCHAR) AS at FROM schema_migrations')
  ).getRowObjectsJS();
  return new Map(rows.map((r) => [Number(r.version), String(r.at)]));
}

export async function migrationStatus(conn: DuckDBConnection): Promise<MigrationStatus[]> {
  const applied = await appliedVersions(conn);
  return MIGRATIONS.map((m) => ({
    version: m.version,
    name: m.name,
    appliedAt: applied.get(m.version) ?? null,
  }));
}

/** Applies every pending migration (or up to `target`), each in its own transaction. Returns versions applied. */
export async function migrateUp(conn: DuckDBConnection, target?: number): Promise<number[]> {
  const applied = await appliedVersions(conn);
  const done: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version) || (target !== undefined && m.version > target)) continue;
    await inTransaction(conn, async () => {
      for (const sql of m.up) await conn.run(sql);
      await conn.run('INSERT INTO schema_migrations VALUES ($1, $2, now()::TIMESTAMP)', [m.version, m.name]);
    });
    done.push(m.version);
  }
  return done;
}

/** Reverts the newest applied migrations, `steps` of them (default 1). Returns versions reverted. */
export async function migrateDown(conn: DuckDBConnection, steps = 1): Promise<number[]> {
  const applied = await appliedVersions(conn);
  const done: number[] = [];
  const newestFirst = [...MIGRATIONS].reverse().filter((m) => applied.has(m.version));
  for (const m of newestFirst.slice(0, steps)) {
    await inTransaction(conn, async () => {
      for (const sql of m.down) await conn.run(sql);
      await conn.run('DELETE FROM schema_migrations WHERE version = $1', [m.version]);
    });
    done.push(m.version);
  }
  return done;
}

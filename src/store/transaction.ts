/** One DuckDB transaction around `fn`: committed when it resolves, rolled back when it throws. */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const r = await fn();
    await conn.run('COMMIT');
    return r;
  } catch (e) {
    // a COMMIT that failed (e.g. the disk is full) has already rolled back: report why it failed,
    // not that ROLLBACK found no transaction
    await conn.run('ROLLBACK').catch(() => {});
    throw e;
  }
}

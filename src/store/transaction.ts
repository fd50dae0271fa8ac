/** One DuckDB transaction around `fn`: committed when it resolves, rolled back when it throws. */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const r = await fn();
    await conn.run('COMMIT');
    return r;
  } catch (e) {
    await conn.run('ROLLBACK');
    throw e;
  }
}

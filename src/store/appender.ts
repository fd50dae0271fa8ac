/** Appends typed rows through the DuckDB Appender (the fastest write path; see stack-measurements §3c). */
import { type DuckDBAppender, type DuckDBConnection, DuckDBTimestampValue } from '@duckdb/node-api';
import type { Col } from './columns.ts';

/** Epoch ms outside 1970…2200 is not a real OpenCode time; it is stored as NULL rather than failing the batch. */
const MAX_MS = 7_258_118_400_000;

function appendValue(a: DuckDBAppender, type: Col<unknown>[1], v: unknown): void {
  if (v === null || v === undefined) {
    a.appendNull();
    return;
  }
  switch (type) {
    case 'varchar':
    case 'json':
      a.appendVarchar(typeof v === 'string' ? v : String(v));
      return;
    case 'bigint': {
      const x = Number(v);
      if (Number.isFinite(x)) a.appendBigInt(BigInt(Math.trunc(x)));
      else a.appendNull();
      return;
    }
    case 'integer': {
      const x = Number(v);
      if (Number.isFinite(x) && Math.abs(x) < 2 ** 31) a.appendInteger(Math.trunc(x));
      else a.appendNull();
      return;
    }
    case 'double': {
      const x = Number(v);
      if (Number.isFinite(x)) a.appendDouble(x);
      else a.appendNull();
      return;
    }
    case 'boolean':
      a.appendBoolean(Boolean(v));
      return;
    case 'timestamp': {
      const ms = Number(v);
      if (Number.isFinite(ms) && ms >= 0 && ms < MAX_MS)
        a.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.trunc(ms)) * 1000n));
      else a.appendNull();
      return;
    }
  }
}

export async function appendRows<R>(
  conn: DuckDBConnection,
  table: string,
  cols: readonly Col<R>[],
  rows: Iterable<R>,
): Promise<number> {
  const a = await conn.createAppender(table);
  let n = 0;
  try {
    for (const r of rows) {
      for (const [, type, get] of cols) appendValue(a, type, get(r));
      a.endRow();
      n++;
    }
    a.flushSync();
  } catch (e) {
    // An appender that failed still holds its rows, and flushes them again when it is closed or
    // garbage-collected: into whatever transaction the connection has then, which that aborts (every
    // later batch failed with "Current transaction is aborted"). Drop them, then close.
    a.clear();
    try {
      a.closeSync();
    } catch {
      // nothing left to flush; the error that matters is the first one
    }
    throw e;
  }
  a.closeSync();
  return n;
}

/** Fails early, with the difference, when a column spec drifts from the table created by the migrations. */
export async function checkColumns(
  conn: DuckDBConnection,
  table: string,
  cols: readonly Col<unknown>[],
): Promise<void> {
  const rows = (
    await conn.runAndReadAll(
      `SELECT column_name FROM duckdb_columns() WHERE table_name = $1 ORDER BY column_index`,
      [table],
    )
  ).getRowObjectsJS();
  const actual = rows.map((r) => String(r.column_name));
  const expected = cols.map((c) => c[0]);
  if (actual.join(',') !== expected.join(',')) {
    throw new Error(
      `column spec for ${table} does not match the table: table has [${actual.join(', ')}], spec has [${expected.join(', ')}]`,
    );
  }
}

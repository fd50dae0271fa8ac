/** Read-only SQL over the store, with results made JSON-friendly (numbers as numbers, ISO timestamps). */
import type { DuckDBConnection, DuckDBResultReader } from '@duckdb/node-api';

export type JsonRow = Record<string, unknown>;

function toPlain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toPlain(x);
    return o;
  }
  return v;
}

/** One row's values (as DuckDB's JS conversion gives them) as a JSON-friendly object. */
export function plainRow(
  row: readonly unknown[],
  names: readonly string[],
  isJson: readonly boolean[],
): JsonRow {
  const o: JsonRow = {};
  row.forEach((v, i) => {
    const name = names[i] as string;
    if (isJson[i] && typeof v === 'string') {
      try {
        o[name] = JSON.parse(v);
        return;
      } catch {
        // not valid JSON after all: fall through and return the text
      }
    }
    o[name] = toPlain(v);
  });
  return o;
}

export function resultRows(result: DuckDBResultReader): JsonRow[] {
  const names = result.columnNames();
  const isJson = names.map((_, i) => result.columnLogicalType(i).alias === 'JSON');
  return result.getRowsJS().map((row) => plainRow(row, names, isJson));
}

export async function queryRows(conn: DuckDBConnection, sql: string, params?: unknown[]): Promise<JsonRow[]> {
  const r = await conn.runAndReadAll(sql, params as never);
  return resultRows(r);
}

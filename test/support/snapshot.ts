import type { Store } from '../../src/store/db.ts';
import { queryRows } from '../../src/store/query.ts';

/** A fingerprint of every stored row (entity tables only, not bookkeeping timestamps). */
export const ENTITY_TABLES = [
  'projects',
  'sessions',
  'messages',
  'parts',
  'tool_calls',
  'todos',
  'session_diffs',
];

export async function storeSnapshot(
  store: Store,
  tables: readonly string[] = ENTITY_TABLES,
): Promise<Record<string, { n: number; h: string }>> {
  const out: Record<string, { n: number; h: string }> = {};
  for (const t of tables) {
    const [r] = await queryRows(
      store.conn,
      // each row hashed first: one string of every row would not fit DuckDB's memory with large tool outputs
      `SELECT count(*) AS n, coalesce(md5(string_agg(r, '|' ORDER BY r)), '') AS h FROM (SELECT md5(x::VARCHAR) AS r FROM ${t} AS x)`,
    );
    out[t] = { n: Number(r?.n), h: String(r?.h) };
  }
  return out;
}

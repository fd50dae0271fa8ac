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
      `SELECT count(*) AS n, coalesce(md5(string_agg(x::VARCHAR, '|' ORDER BY x::VARCHAR)), '') AS h FROM ${t} AS x`,
    );
    out[t] = { n: Number(r?.n), h: String(r?.h) };
  }
  return out;
}

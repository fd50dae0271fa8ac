import type { Store } from '../../src/store/db.ts';
import { queryRows } from '../../src/store/query.ts';

/** A fingerprint of every stored row (entity tables only, not bookkeeping timestamps). */
export async function storeSnapshot(store: Store): Promise<Record<string, { n: number; h: string }>> {
  const out: Record<string, { n: number; h: string }> = {};
  for (const t of ['projects', 'sessions', 'messages', 'parts', 'tool_calls', 'todos', 'session_diffs']) {
    const [r] = await queryRows(
      store.conn,
      `SELECT count(*) AS n, coalesce(md5(string_agg(x::VARCHAR, '|' ORDER BY x::VARCHAR)), '') AS h FROM ${t} AS x`,
    );
    out[t] = { n: Number(r?.n), h: String(r?.h) };
  }
  return out;
}

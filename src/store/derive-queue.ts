/**
 * The derive queue: sessions whose derived data must be recomputed. The writer adds them in the same
 * transaction as their rows; the derivation takes them, derives, then removes what it took (by
 * sequence number, so entries added meanwhile stay). A crash in between only means deriving again.
 */
import { type DuckDBConnection, listValue } from '@duckdb/node-api';

export async function enqueueSessions(conn: DuckDBConnection, sessionIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(sessionIds)];
  if (ids.length === 0) return;
  await conn.run('INSERT INTO derive_queue (session_id) SELECT unnest($1::VARCHAR[])', [listValue(ids)]);
}

export interface PendingSessions {
  sessions: Set<string>;
  /** The highest sequence number taken; settle() removes up to it. */
  upTo: number;
}

export async function pendingSessions(conn: DuckDBConnection): Promise<PendingSessions> {
  const r = await conn.runAndReadAll('SELECT DISTINCT session_id, max(seq) OVER () FROM derive_queue');
  const rows = r.getRows();
  return {
    sessions: new Set(rows.map((x) => String(x[0]))),
    upTo: rows.length > 0 ? Number(rows[0]?.[1]) : -1,
  };
}

export async function settleSessions(conn: DuckDBConnection, upTo: number): Promise<void> {
  if (upTo >= 0) await conn.run('DELETE FROM derive_queue WHERE seq <= $1', [upTo]);
}

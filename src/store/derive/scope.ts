/**
 * Which sessions a derivation covers. Derived rows of a session depend on its whole session family
 * (a parent's trace nests its sub-agents' spans; a sub-agent's exchanges point at the parent's), so a
 * partial derivation always covers whole families: every session reachable from a touched one through
 * parent links (`sessions.parent_session_id`, `task` tool `child_session_id`), up and down.
 */
import { type DuckDBConnection, listValue } from '@duckdb/node-api';

export interface Scope {
  /** Everything: filters become TRUE and clearing a table is a plain DELETE. */
  all: boolean;
}

/** A filter on a session ID column: TRUE for all, else membership in `d_scope`. */
export function inScope(scope: Scope, col: string): string {
  return scope.all ? 'TRUE' : `${col} IN (SELECT session_id FROM d_scope)`;
}

/** Deletes a derived table's rows of the scope. */
export function clearSql(scope: Scope, table: string, col = 'session_id'): string {
  return scope.all ? `DELETE FROM ${table}` : `DELETE FROM ${table} WHERE ${inScope(scope, col)}`;
}

/** Parent → child session edges (both link kinds), as a temp table `d_edges(parent, child)`. */
export const EDGES_SQL = `CREATE OR REPLACE TEMP TABLE d_edges AS
SELECT DISTINCT parent, child FROM (
  SELECT parent_session_id AS parent, session_id AS child FROM sessions WHERE parent_session_id IS NOT NULL
  UNION ALL
  SELECT session_id, child_session_id FROM tool_calls
  WHERE child_session_id IS NOT NULL AND session_id IS NOT NULL
) WHERE parent <> child`;

/** Fills `d_scope(session_id)` with the families of `sessionIds`. Returns the number of sessions. */
export async function prepareScope(conn: DuckDBConnection, sessionIds: readonly string[]): Promise<number> {
  await conn.run(EDGES_SQL);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE d_scope AS
    WITH RECURSIVE
      touched AS (SELECT DISTINCT unnest($1::VARCHAR[]) AS sid),
      up(sid, depth) AS (
        SELECT sid, 0 FROM touched
        UNION SELECT e.parent, up.depth + 1 FROM up JOIN d_edges e ON e.child = up.sid WHERE up.depth < 16),
      down(sid, depth) AS (
        SELECT sid, 0 FROM up
        UNION SELECT e.child, down.depth + 1 FROM down JOIN d_edges e ON e.parent = down.sid WHERE down.depth < 16)
    SELECT DISTINCT sid AS session_id FROM down`,
    [listValue([...sessionIds])],
  );
  const r = await conn.runAndReadAll('SELECT count(*) FROM d_scope');
  return Number(r.getRows()[0]?.[0] ?? 0);
}

/**
 * `ocbridge run` on a terminal, once live: one line per notable change of a session (it started, an
 * exchange began, an error happened), with what the session has cost so far. Read from the session
 * rollups after each derivation; a session whose counts did not change prints nothing.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from '../store/query.ts';
import { palette } from './console.ts';
import { formatUsd } from './table.ts';

export function sessionEvents(conn: DuckDBConnection, print: (line: string) => void, c = palette()) {
  const seen = new Map<string, { exchanges: number; errors: number }>();
  return {
    async changed(ids: ReadonlySet<string>): Promise<void> {
      if (ids.size === 0) return;
      const rows = await queryRows(
        conn,
        `SELECT session_id, coalesce(title, session_id) AS title, parent_session_id, exchange_count, error_count,
                total_cost_usd, input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens AS tokens
         FROM session_resource_metrics WHERE list_contains($1::VARCHAR[], session_id)`,
        [[...ids]],
      );
      const time = new Date().toTimeString().slice(0, 8);
      for (const r of rows) {
        const id = String(r.session_id);
        const now = { exchanges: Number(r.exchange_count), errors: Number(r.error_count) };
        const before = seen.get(id);
        seen.set(id, now);
        if (before && before.exchanges === now.exchanges && before.errors === now.errors) continue;
        const what = !before
          ? r.parent_session_id
            ? 'sub-agent session'
            : 'session'
          : now.errors > before.errors
            ? c.yellow(`${now.errors - before.errors} new error(s) in`)
            : `exchange ${now.exchanges} in`;
        print(
          `${c.dim(time)} ${what} “${String(r.title).slice(0, 60)}”: ${now.exchanges} exchanges, ` +
            `${Number(r.tokens).toLocaleString('en-US')} tokens, ${formatUsd(Number(r.total_cost_usd))}`,
        );
      }
    },
  };
}

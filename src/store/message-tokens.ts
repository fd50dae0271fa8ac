/**
 * Columns derived from several rows, recomputed for the messages a batch touched: message tokens are
 * the sum of their step-finish parts where they have any (OpenCode overwrites a message's tokens with
 * the last step's; `token_source = 'steps'`), else the recorded ones; parts and tool calls without a
 * session take their message's. Runs inside the caller's transaction.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendRows } from './appender.ts';
import type { Col } from './columns.ts';

export const MESSAGE_IDS_TEMP_TABLE = 'CREATE TEMP TABLE IF NOT EXISTS tmp_ids (id VARCHAR)';

export async function recomputeMessageTokens(
  conn: DuckDBConnection,
  messageIds: Iterable<string>,
): Promise<void> {
  await conn.run('DELETE FROM tmp_ids');
  await appendRows(conn, 'tmp_ids', idCols, messageIds);
  await conn.run(`UPDATE messages AS m SET
      input_tokens = s.i, output_tokens = s.o, reasoning_tokens = s.r, cache_read_tokens = s.cr,
      cache_write_tokens = s.cw, token_source = 'steps', step_count = s.n
    FROM (SELECT message_id, count(*) AS n, sum(step_input_tokens) AS i, sum(step_output_tokens) AS o,
                 sum(step_reasoning_tokens) AS r, sum(step_cache_read_tokens) AS cr, sum(step_cache_write_tokens) AS cw
          FROM parts WHERE part_type = 'step-finish' AND message_id IN (SELECT id FROM tmp_ids)
          GROUP BY message_id) AS s
    WHERE m.message_id = s.message_id`);
  await conn.run(`UPDATE messages SET
      input_tokens = recorded_input_tokens, output_tokens = recorded_output_tokens,
      reasoning_tokens = recorded_reasoning_tokens, cache_read_tokens = recorded_cache_read_tokens,
      cache_write_tokens = recorded_cache_write_tokens,
      token_source = CASE WHEN recorded_input_tokens IS NULL AND recorded_output_tokens IS NULL THEN NULL ELSE 'message' END,
      step_count = 0
    WHERE message_id IN (SELECT id FROM tmp_ids)
      AND message_id NOT IN (SELECT message_id FROM parts WHERE part_type = 'step-finish' AND message_id IN (SELECT id FROM tmp_ids))`);
  await conn.run(`UPDATE parts AS p SET session_id = m.session_id FROM messages AS m
    WHERE p.session_id IS NULL AND p.message_id = m.message_id AND p.message_id IN (SELECT id FROM tmp_ids)`);
  await conn.run(`UPDATE tool_calls AS p SET session_id = m.session_id FROM messages AS m
    WHERE p.session_id IS NULL AND p.message_id = m.message_id AND p.message_id IN (SELECT id FROM tmp_ids)`);
  await conn.run('DELETE FROM tmp_ids');
}

const idCols: readonly Col<string>[] = [['id', 'varchar', (r) => r]];

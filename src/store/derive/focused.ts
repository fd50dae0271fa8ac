/**
 * Focused tables beside `parts`, one simple query per kind of work: `file_operations`,
 * `reasoning_blocks`, `text_blocks`, `retries`, `compactions`. Needs the temp tables of base.ts.
 */
import { errorCategorySql } from '../../domain/errors/index.ts';
import { clearSql, inScope, type Scope } from './scope.ts';

/** Tools whose file is recorded in file_operations, with the operation (multiedit counts as edit). */
const FILE_OP_TOOLS = "('read', 'write', 'edit', 'multiedit')";

export function focusedSql(scope: Scope): string[] {
  const p = inScope(scope, 'p.session_id');
  const stepJoin = `LEFT JOIN d_part_steps ps ON ps.part_id = p.part_id
    LEFT JOIN d_steps st ON st.message_id = p.message_id AND st.step_index = ps.step_index
    LEFT JOIN d_msg_ex x ON x.message_id = p.message_id`;
  return [
    clearSql(scope, 'file_operations'),
    `INSERT INTO file_operations
    SELECT t.session_id, t.project_id, t.exchange_id, t.message_id, t.part_id, t.step_id, 'tool', t.tool_name,
           CASE WHEN t.tool_name = 'multiedit' THEN 'edit' ELSE t.tool_name END, t.file_path, t.started_at, t.status,
           NULL
    FROM tool_call_facts t
    WHERE t.tool_name IN ${FILE_OP_TOOLS} AND t.file_path IS NOT NULL AND ${inScope(scope, 't.session_id')}
    UNION ALL
    SELECT p.session_id, s.project_id, x.exchange_id, p.message_id, p.part_id, st.step_id, 'patch', NULL, 'patch',
           unnest(r.files), st.ended_at, NULL, p.snapshot
    FROM parts p JOIN d_part_raw r ON r.part_id = p.part_id ${stepJoin}
    LEFT JOIN sessions s ON s.session_id = p.session_id
    WHERE p.part_type = 'patch' AND ${p}`,

    clearSql(scope, 'reasoning_blocks'),
    `INSERT INTO reasoning_blocks
    SELECT p.part_id, p.session_id, x.exchange_id, p.message_id, st.step_id, p.time_start, p.time_end,
           date_diff('millisecond', p.time_start, p.time_end), p.text_length
    FROM parts p ${stepJoin}
    WHERE p.part_type = 'reasoning' AND ${p}`,

    clearSql(scope, 'text_blocks'),
    `INSERT INTO text_blocks
    SELECT p.part_id, p.session_id, x.exchange_id, p.message_id, st.step_id, m.role, p.time_start, p.time_end,
           date_diff('millisecond', p.time_start, p.time_end), p.text_length,
           coalesce(r.synthetic, false), coalesce(r.ignored, false)
    FROM parts p LEFT JOIN d_part_raw r ON r.part_id = p.part_id ${stepJoin}
    LEFT JOIN messages m ON m.message_id = p.message_id
    WHERE p.part_type = 'text' AND ${p}`,

    clearSql(scope, 'retries'),
    `INSERT INTO retries
    SELECT p.part_id, p.session_id, s.project_id, x.exchange_id, p.message_id, st.step_id, r.attempt, p.time_start,
           m.provider_id, m.model_id, r.error_name, TRY_CAST(r.error_status AS INTEGER), r.error_message,
           ${errorCategorySql('r.error_name', 'r.error_status', 'concat_ws(chr(10), r.error_message, r.error_body)')},
           r.is_retryable
    FROM parts p JOIN d_part_raw r ON r.part_id = p.part_id ${stepJoin}
    LEFT JOIN messages m ON m.message_id = p.message_id
    LEFT JOIN sessions s ON s.session_id = p.session_id
    WHERE p.part_type = 'retry' AND ${p}`,

    clearSql(scope, 'compactions'),
    `INSERT INTO compactions
    WITH a AS (
      SELECT exchange_id,
             arg_min(message_id, (NOT coalesce(is_summary, false), created_at, message_id)) AS summary_message_id,
             max(coalesce(completed_at, created_at)) AS ended_at,
             sum(input_tokens) AS i, sum(output_tokens) AS o, sum(reasoning_tokens) AS r,
             sum(cache_read_tokens) AS cr, sum(cache_write_tokens) AS cw,
             CAST(sum(CAST(cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS cost, CAST(sum(CAST(computed_cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS computed
      FROM message_facts WHERE role = 'assistant' AND ${inScope(scope, 'session_id')}
      GROUP BY exchange_id
    ),
    before AS (
      SELECT r.exchange_id, s.context_tokens
      FROM (SELECT * FROM d_roots WHERE kind = 'compaction') r
      ASOF JOIN d_steps s ON s.session_id = r.session_id AND r.created_at > s.started_at
    )
    SELECT coalesce(r.compaction_part_id, r.exchange_id), r.session_id, r.exchange_id, r.exchange_id,
           r.compaction_part_id, r.created_at, a.ended_at, date_diff('millisecond', r.created_at, a.ended_at),
           r.auto, r.overflow, a.summary_message_id, b.context_tokens, a.i, a.o, a.r, a.cr, a.cw, a.cost, a.computed
    FROM d_roots r LEFT JOIN a USING (exchange_id) LEFT JOIN before b USING (exchange_id)
    WHERE r.kind = 'compaction'`,
  ];
}

/**
 * The first derivation stage: which exchange every message belongs to, which step (LLM call) every
 * part belongs to, and the per-row tables `steps`, `message_facts` and `tool_call_facts`.
 *
 * Temp tables built here and used by later stages: `d_roots` (exchange roots), `d_msg_ex` (message →
 * exchange), `d_part_steps` (assistant part → step index), `d_steps` (steps, priced).
 */
import { errorCategorySql } from '../../domain/errors/index.ts';
import { messageCostSql } from '../../domain/pricing/index.ts';
import { clearSql, inScope, type Scope } from './scope.ts';

/** Message roles that start an exchange (2.x has `synthetic` and `compaction` messages of their own). */
export const ROOT_ROLES = "('user', 'synthetic', 'compaction')";

/** Tools whose `filePath` input is the file they read or change (tool_call_facts.file_path). */
export const FILE_TOOLS = "('read', 'write', 'edit', 'multiedit', 'patch', 'apply_patch')";

const TOKEN_COLS = ['input', 'output', 'reasoning', 'cache_read', 'cache_write'] as const;

/**
 * Step timing from part times (docs/schema.md "Step timing"). Every v1 part ID (`prt_` + 12 hex + 14
 * base62, JSON tree and SQLite alike) encodes its creation time: the hex is (ms · 4096 + counter) mod
 * 2^48, i.e. the epoch ms modulo 2^36 (~795 days; opencode-storage.md §2.4). `id_clock` is that value, or
 * NULL for any other ID (2.x inlined parts `<msg>/<n>`, hand-made IDs).
 */
const ID_CLOCK_SQL = `CASE WHEN length(p.part_id) = 30 AND starts_with(p.part_id, 'prt_')
  THEN TRY_CAST(('0x' || substr(p.part_id, 5, 12)) AS BIGINT) >> 12 END`;
const ID_CLOCK_PERIOD_MS = 2 ** 36;
/** An ID clock → the time in the 795-day window nearest `ref` (the message's creation); NULL when more than a day off. */
function unwrapSql(clock: string, ref: string): string {
  const d = `(((epoch_ms(${ref}) - ${clock}) % ${ID_CLOCK_PERIOD_MS} + ${ID_CLOCK_PERIOD_MS}) % ${ID_CLOCK_PERIOD_MS})`;
  const off = `(CASE WHEN ${d} > ${ID_CLOCK_PERIOD_MS / 2} THEN ${d} - ${ID_CLOCK_PERIOD_MS} ELSE ${d} END)`;
  return `CASE WHEN abs(${off}) <= 86400000 THEN make_timestamp((epoch_ms(${ref}) - ${off}) * 1000) END`;
}

export function baseSql(scope: Scope): string[] {
  const m = inScope(scope, 'm.session_id');
  return [
    // the only pass over parts.raw (the big column): every JSON field a later stage needs
    `CREATE OR REPLACE TEMP TABLE d_part_raw AS
    WITH p AS (
      SELECT part_id, part_type,
             CASE part_type
               WHEN 'text' THEN json_extract_string(raw, ['$.synthetic', '$.ignored'])
               WHEN 'compaction' THEN json_extract_string(raw, ['$.auto', '$.overflow'])
               WHEN 'retry' THEN json_extract_string(raw, ['$.attempt', '$.error.name', '$.error.data.statusCode',
                 '$.error.data.message', '$.error.data.responseBody', '$.error.data.isRetryable'])
             END AS f,
             CASE WHEN part_type = 'patch' THEN json_extract_string(raw, '$.files[*]') END AS files
      FROM parts p
      WHERE part_type IN ('text', 'compaction', 'patch', 'retry') AND ${inScope(scope, 'p.session_id')}
    )
    SELECT part_id, part_type,
           coalesce(TRY_CAST(CASE WHEN part_type = 'text' THEN f[1] END AS BOOLEAN), false) AS synthetic,
           coalesce(TRY_CAST(CASE WHEN part_type = 'text' THEN f[2] END AS BOOLEAN), false) AS ignored,
           TRY_CAST(CASE WHEN part_type = 'compaction' THEN f[1] END AS BOOLEAN) AS auto,
           TRY_CAST(CASE WHEN part_type = 'compaction' THEN f[2] END AS BOOLEAN) AS overflow,
           files,
           TRY_CAST(CASE WHEN part_type = 'retry' THEN f[1] END AS INTEGER) AS attempt,
           CASE WHEN part_type = 'retry' THEN f[2] END AS error_name,
           CASE WHEN part_type = 'retry' THEN f[3] END AS error_status,
           CASE WHEN part_type = 'retry' THEN f[4] END AS error_message,
           CASE WHEN part_type = 'retry' THEN f[5] END AS error_body,
           TRY_CAST(CASE WHEN part_type = 'retry' THEN f[6] END AS BOOLEAN) AS is_retryable
    FROM p`,

    // exchange roots: user-like messages, and any non-assistant message an assistant answers
    `CREATE OR REPLACE TEMP TABLE d_roots AS
    WITH rp AS (
      SELECT p.message_id,
             bool_or(p.part_type = 'compaction') AS has_compaction,
             bool_or(p.part_type = 'subtask') AS has_subtask,
             count(*) FILTER (WHERE p.part_type = 'text') AS texts,
             count(*) FILTER (WHERE p.part_type = 'text' AND r.synthetic) AS synthetic_texts,
             min(p.part_id) FILTER (WHERE p.part_type = 'compaction') AS compaction_part_id,
             bool_or(r.auto) AS auto,
             bool_or(r.overflow) AS overflow
      FROM parts p JOIN messages m ON m.message_id = p.message_id
      LEFT JOIN d_part_raw r ON r.part_id = p.part_id
      WHERE m.role <> 'assistant' AND p.part_type IN ('text', 'compaction', 'subtask') AND ${m}
      GROUP BY p.message_id
    ),
    v2 AS (
      SELECT message_id, TRY_CAST(raw->>'auto' AS BOOLEAN) AS auto, TRY_CAST(raw->>'overflow' AS BOOLEAN) AS overflow
      FROM messages m WHERE role = 'compaction' AND ${m}
    ),
    answered AS (SELECT DISTINCT parent_message_id AS message_id FROM messages m WHERE role = 'assistant' AND ${m})
    SELECT m.message_id AS exchange_id, m.session_id, m.created_at, m.role, m.agent, m.provider_id, m.model_id,
           CASE WHEN m.role = 'compaction' OR rp.has_compaction THEN 'compaction'
                WHEN m.role = 'synthetic' OR (rp.texts > 0 AND rp.texts = rp.synthetic_texts) THEN 'synthetic'
                WHEN rp.has_subtask THEN 'subtask'
                ELSE 'prompt' END AS kind,
           rp.compaction_part_id,
           coalesce(rp.auto, v2.auto) AS auto, coalesce(rp.overflow, v2.overflow) AS overflow
    FROM messages m LEFT JOIN rp USING (message_id) LEFT JOIN v2 USING (message_id)
    WHERE ${m} AND m.role <> 'assistant'
      AND (m.role IN ${ROOT_ROLES} OR m.message_id IN (SELECT message_id FROM answered))`,

    // assistant message → exchange: its parentID; else (no parentID: pre-0.15) the latest root before it
    // in the session; a parentID that is not in the store makes an orphan exchange named after it
    `CREATE OR REPLACE TEMP TABLE d_msg_ex AS
    WITH a AS (
      SELECT m.message_id, m.session_id, m.parent_message_id, m.created_at, r.exchange_id AS direct_ex,
             (m.parent_message_id IS NOT NULL AND r.exchange_id IS NULL AND x.message_id IS NULL) AS parent_missing
      FROM messages m
      LEFT JOIN d_roots r ON r.exchange_id = m.parent_message_id
      LEFT JOIN messages x ON x.message_id = m.parent_message_id
      WHERE m.role = 'assistant' AND ${m}
    ),
    fallback AS (
      SELECT a.message_id, r.exchange_id AS asof_ex
      FROM (SELECT * FROM a WHERE direct_ex IS NULL AND NOT parent_missing) a
      ASOF JOIN d_roots r ON r.session_id = a.session_id AND a.created_at >= r.created_at
    )
    SELECT a.message_id, a.session_id,
           coalesce(a.direct_ex, CASE WHEN a.parent_missing THEN a.parent_message_id END, f.asof_ex,
                    'orphan:' || a.session_id) AS exchange_id
    FROM a LEFT JOIN fallback f USING (message_id)
    UNION ALL
    SELECT exchange_id, session_id, exchange_id FROM d_roots`,

    // assistant parts in order (2.x inlined parts '<msg>/<n>' by n) with their step index: the count of
    // step-start parts up to them (parts before the first one belong to step 1); a message with only
    // step-finish parts starts a new step after each
    `CREATE OR REPLACE TEMP TABLE d_part_steps AS
    WITH p AS (
      SELECT p.part_id, p.message_id, p.part_type, p.time_start, p.time_end, p.step_reason, p.step_cost,
             p.step_input_tokens, p.step_output_tokens, p.step_reasoning_tokens, p.step_cache_read_tokens,
             p.step_cache_write_tokens, p.snapshot,
             len(r.files) AS patch_files,
             CASE WHEN contains(p.part_id, '/') THEN lpad(regexp_extract(p.part_id, '/([0-9]+)$', 1), 12, '0')
                  ELSE p.part_id END AS seq,
             ${ID_CLOCK_SQL} AS id_clock
      FROM parts p JOIN messages m ON m.message_id = p.message_id
      LEFT JOIN d_part_raw r ON r.part_id = p.part_id
      WHERE m.role = 'assistant' AND ${m}
    ),
    c AS (
      SELECT p.*,
             count(*) FILTER (WHERE part_type = 'step-start') OVER (PARTITION BY message_id) AS n_starts,
             sum(CASE WHEN part_type = 'step-start' THEN 1 ELSE 0 END) OVER w AS starts_upto,
             sum(CASE WHEN part_type = 'step-finish' THEN 1 ELSE 0 END) OVER w
               - CASE WHEN part_type = 'step-finish' THEN 1 ELSE 0 END AS finishes_before
      FROM p
      WINDOW w AS (PARTITION BY message_id ORDER BY seq, part_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT * EXCLUDE (n_starts, starts_upto, finishes_before),
           CAST(CASE WHEN n_starts > 0 THEN greatest(starts_upto, 1) ELSE finishes_before + 1 END AS INTEGER) AS step_index
    FROM c`,

    // one row per LLM call; a message without step parts is one call with the message's own tokens
    `CREATE OR REPLACE TEMP TABLE d_steps_raw AS
    WITH agg AS (
      SELECT message_id, step_index,
             arg_min(part_id, seq) FILTER (WHERE part_type = 'step-start') AS start_part_id,
             arg_min(snapshot, seq) FILTER (WHERE part_type = 'step-start') AS snapshot_start,
             arg_min(part_id, seq) FILTER (WHERE part_type = 'step-finish') AS finish_part_id,
             arg_max(snapshot, seq) FILTER (WHERE part_type = 'step-finish') AS snapshot_end,
             arg_max(step_reason, seq) FILTER (WHERE part_type = 'step-finish') AS finish_reason,
             count(*) FILTER (WHERE part_type = 'step-finish') AS finishes,
             ${TOKEN_COLS.map((t) => `sum(step_${t}_tokens) FILTER (WHERE part_type = 'step-finish') AS s_${t}`).join(', ')},
             CAST(sum(CAST(step_cost AS DECIMAL(38, 15))) FILTER (WHERE part_type = 'step-finish') AS DOUBLE) AS s_cost,
             arg_min(id_clock, seq) FILTER (WHERE part_type = 'step-start') AS start_clock,
             arg_min(id_clock, seq) FILTER (WHERE part_type = 'step-finish') AS finish_clock,
             arg_min(id_clock, seq) AS first_clock,
             arg_max(id_clock, seq) AS last_clock,
             min(time_start) AS content_start,
             max(coalesce(time_end, time_start)) AS content_end,
             count(*) FILTER (WHERE part_type = 'tool') AS tools,
             arg_max(snapshot, seq) FILTER (WHERE part_type = 'patch') AS patch_hash,
             sum(patch_files) AS patch_files
      FROM d_part_steps GROUP BY message_id, step_index
    ),
    s AS (
      SELECT m.message_id, m.session_id, x.exchange_id, m.agent, m.provider_id, m.model_id, m.created_at,
             m.completed_at, m.token_source AS m_token_source, m.cost_usd AS m_cost,
             ${TOKEN_COLS.map((t) => `m.${t}_tokens AS m_${t}`).join(', ')},
             coalesce(a.step_index, 1) AS step_index, a.start_part_id, a.snapshot_start, a.finish_part_id,
             a.snapshot_end, a.finish_reason, coalesce(a.finishes, 0) AS finishes,
             ${TOKEN_COLS.map((t) => `a.s_${t}`).join(', ')}, a.s_cost, a.content_start, a.content_end,
             ${unwrapSql('a.start_clock', 'm.created_at')} AS start_at,
             ${unwrapSql('a.finish_clock', 'm.created_at')} AS finish_at,
             ${unwrapSql('a.first_clock', 'm.created_at')} AS first_at,
             ${unwrapSql('a.last_clock', 'm.created_at')} AS last_at,
             coalesce(a.tools, 0) AS tools, a.patch_hash, a.patch_files,
             sum(coalesce(a.finishes, 0)) OVER (PARTITION BY m.message_id) AS msg_finishes,
             max(coalesce(a.step_index, 1)) OVER (PARTITION BY m.message_id) AS last_index,
             max(a.content_end) OVER (PARTITION BY m.message_id ORDER BY coalesce(a.step_index, 1)
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
      FROM messages m
      JOIN d_msg_ex x USING (message_id)
      LEFT JOIN agg a USING (message_id)
      WHERE m.role = 'assistant' AND ${m}
    ),
    t AS (
      SELECT s.*,
             coalesce(start_at, first_at,
               least(CASE WHEN step_index = 1 THEN created_at ELSE coalesce(prev_end, created_at) END, content_start)) AS st
      FROM s
    )
    SELECT coalesce(start_part_id, finish_part_id,
                    CASE WHEN step_index = 1 THEN message_id ELSE message_id || '#' || step_index END) AS step_id,
           session_id, exchange_id, message_id, CAST(step_index AS INTEGER) AS step_index, start_part_id,
           finish_part_id, agent, provider_id, model_id, st AS started_at,
           CASE WHEN finish_at IS NOT NULL THEN greatest(st, finish_at)
                ELSE greatest(st, content_end, last_at, CASE WHEN step_index = last_index THEN completed_at END)
           END AS ended_at,
           finish_reason,
           ${TOKEN_COLS.map((t) => `CASE WHEN msg_finishes > 0 THEN s_${t} WHEN step_index = 1 THEN m_${t} END AS ${t}_tokens`).join(',\n           ')},
           CASE WHEN msg_finishes > 0 THEN CASE WHEN finishes > 0 THEN 'step' END
                WHEN step_index = 1 THEN m_token_source END AS token_source,
           CASE WHEN msg_finishes > 0 THEN s_cost WHEN step_index = 1 THEN m_cost END AS cost_usd,
           CAST(tools AS INTEGER) AS tool_call_count, snapshot_start, snapshot_end, patch_hash,
           CAST(patch_files AS INTEGER) AS patch_file_count,
           (finishes > 0 OR (msg_finishes = 0 AND completed_at IS NOT NULL)) AS completed,
           step_index = last_index AS is_last
    FROM t`,

    `CREATE OR REPLACE TEMP TABLE d_steps AS ${messageCostSql('d_steps_raw')}`,

    clearSql(scope, 'steps'),
    `INSERT INTO steps
    SELECT d.step_id, d.session_id, s.project_id, d.exchange_id, d.message_id, d.step_index, d.start_part_id,
           d.finish_part_id, d.agent, d.provider_id, d.model_id, d.started_at, d.ended_at,
           date_diff('millisecond', d.started_at, d.ended_at), d.finish_reason,
           ${TOKEN_COLS.map((t) => `d.${t}_tokens`).join(', ')}, d.context_tokens, d.token_source, d.cost_usd,
           d.computed_cost_usd, d.price_match, d.tier_min_context_tokens, d.tool_call_count, d.snapshot_start,
           d.snapshot_end, d.patch_hash, d.patch_file_count, d.completed
    FROM d_steps d LEFT JOIN sessions s USING (session_id)
    ORDER BY d.session_id, d.started_at`,

    clearSql(scope, 'message_facts'),
    `INSERT INTO message_facts
    WITH sc AS (
      SELECT message_id, CAST(sum(CAST(computed_cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS computed, min(price_match) AS price_match
      FROM d_steps GROUP BY message_id
    ),
    rv AS (
      SELECT s.session_id, s.revert_message_id, r.created_at AS revert_at
      FROM sessions s LEFT JOIN messages r ON r.message_id = s.revert_message_id
      WHERE s.revert_message_id IS NOT NULL AND ${inScope(scope, 's.session_id')}
    ),
    tc AS (SELECT message_id, count(*) AS n FROM tool_calls t WHERE ${inScope(scope, 't.session_id')} GROUP BY 1),
    mm AS (SELECT m.*, x.exchange_id FROM messages m LEFT JOIN d_msg_ex x USING (message_id) WHERE ${m})
    SELECT m.message_id, m.session_id, s.project_id, m.exchange_id, m.role, m.agent, m.provider_id, m.model_id,
           m.created_at, m.completed_at, date_diff('millisecond', m.created_at, m.completed_at),
           ${TOKEN_COLS.map((t) => `m.${t}_tokens`).join(', ')}, m.cost_usd, sc.computed, sc.price_match,
           m.step_count, CAST(coalesce(tc.n, 0) AS INTEGER), m.finish, m.is_summary, m.error_name,
           TRY_CAST(m.error_data->>'statusCode' AS INTEGER), m.error_message,
           CASE WHEN m.error_name IS NOT NULL THEN ${errorCategorySql(
             'm.error_name',
             "m.error_data->>'statusCode'",
             "concat_ws(chr(10), m.error_data->>'message', m.error_data->>'responseBody')",
           )} END,
           coalesce(m.root_path, min(m.root_path) OVER (PARTITION BY m.exchange_id), s.directory, p.worktree),
           CASE WHEN rv.revert_message_id IS NULL THEN false
                WHEN rv.revert_at IS NULL OR m.created_at IS NULL THEN m.message_id >= rv.revert_message_id
                ELSE m.created_at > rv.revert_at OR (m.created_at = rv.revert_at AND m.message_id >= rv.revert_message_id)
           END
    FROM mm m
    LEFT JOIN sc USING (message_id)
    LEFT JOIN tc USING (message_id)
    LEFT JOIN sessions s ON s.session_id = m.session_id
    LEFT JOIN projects p ON p.project_id = s.project_id
    LEFT JOIN rv ON rv.session_id = m.session_id
    ORDER BY m.session_id, m.created_at`,

    clearSql(scope, 'tool_call_facts'),
    `INSERT INTO tool_call_facts
    SELECT t.part_id, t.session_id, s.project_id, x.exchange_id, t.message_id, st.step_id, t.call_id, t.tool_name,
           t.status, t.title, t.started_at, t.ended_at, t.execution_time_ms, t.error_message,
           CASE WHEN t.status = 'error' OR t.error_message IS NOT NULL
                THEN ${errorCategorySql('NULL', 'NULL', 't.error_message')} END,
           t.child_session_id,
           CASE WHEN t.tool_name IN ${FILE_TOOLS}
                THEN coalesce(t.input->>'filePath', t.input->>'file_path', t.input->>'path') END,
           t.output_length, t.compacted_at
    FROM tool_calls t
    LEFT JOIN d_msg_ex x ON x.message_id = t.message_id
    LEFT JOIN d_part_steps ps ON ps.part_id = t.part_id
    LEFT JOIN d_steps st ON st.message_id = t.message_id AND st.step_index = ps.step_index
    LEFT JOIN sessions s ON s.session_id = t.session_id
    WHERE ${inScope(scope, 't.session_id')}
    ORDER BY t.tool_name, t.session_id`,
  ];
}

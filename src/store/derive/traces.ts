/**
 * `exchange_traces`: the span tree of every exchange, sub-agent exchanges nested under the task call
 * that started them. Built in three passes: each exchange's own spans (`d_local`), the nested copies
 * of its descendants' spans (`d_tree`), then a top-down pass that clamps every span into its parent
 * and flags the ones it moved.
 *
 * span_id: the root is the exchange ID (the user message ID); an llm_call its step-start part ID
 * (or step-finish part, or message ID); a tool, retry or compaction span its part ID; a sub-agent
 * span `subagent:<task part ID>`. Unique within a trace; nested spans keep their IDs in every trace.
 */
import { clearSql, inScope, type Scope } from './scope.ts';

/**
 * A sub-agent's name: the agent of the child session's first exchange that has one, in a total order
 * (start, then ID). `any_value` picked any exchange: two ingests of the same data named the same
 * sub-agent `invoke_agent general` or `invoke_agent compaction`.
 */
const FIRST_AGENT = 'arg_min(c.agent, (c.started_at, c.exchange_id)) FILTER (WHERE c.agent IS NOT NULL)';

const KIND_RANK = `CASE kind WHEN 'exchange' THEN 0 WHEN 'compaction' THEN 1 WHEN 'llm_call' THEN 2
  WHEN 'subagent' THEN 4 ELSE 3 END`;

export function tracesSql(scope: Scope): string[] {
  const ex = inScope(scope, 'e.session_id');
  return [
    `CREATE OR REPLACE TEMP TABLE d_local AS
    WITH e AS (SELECT * FROM exchanges e WHERE ${ex}),
    comp AS (
      SELECT e.exchange_id, coalesce(r.compaction_part_id, 'compaction:' || e.exchange_id) AS span_id,
             r.compaction_part_id, r.auto, r.overflow
      FROM e JOIN d_roots r USING (exchange_id) WHERE e.kind = 'compaction'
    ),
    errs AS (SELECT message_id, error_name, error_category FROM message_facts m
             WHERE error_category IS NOT NULL AND ${inScope(scope, 'm.session_id')})
    SELECT e.exchange_id, e.exchange_id AS span_id, NULL::VARCHAR AS parent_span_id, 'exchange' AS kind,
           e.kind AS name, e.started_at AS raw_start, e.ended_at AS raw_end, e.session_id,
           e.user_message_id AS message_id, NULL::VARCHAR AS part_id,
           json_object('exchange.kind', e.kind, 'status', e.status, 'agent', e.agent, 'provider_id', e.provider_id,
             'model_id', e.model_id, 'input_tokens', e.input_tokens, 'output_tokens', e.output_tokens,
             'reasoning_tokens', e.reasoning_tokens, 'cache_read_tokens', e.cache_read_tokens,
             'cache_write_tokens', e.cache_write_tokens, 'cost_usd', e.cost_usd,
             'computed_cost_usd', e.computed_cost_usd, 'tool_call_count', e.tool_call_count,
             'error_count', e.error_count, 'reverted', e.reverted, 'root_path', e.root_path) AS attributes
    FROM e
    UNION ALL
    SELECT c.exchange_id, c.span_id, c.exchange_id, 'compaction', 'compaction', e.started_at, e.ended_at,
           e.session_id, e.user_message_id, c.compaction_part_id,
           json_object('auto', c.auto, 'overflow', c.overflow)
    FROM comp c JOIN e USING (exchange_id)
    UNION ALL
    SELECT s.exchange_id, s.step_id, coalesce(c.span_id, s.exchange_id), 'llm_call',
           'chat ' || coalesce(s.model_id, 'unknown'), s.started_at, s.ended_at, s.session_id, s.message_id,
           coalesce(s.start_part_id, s.finish_part_id),
           json_object('step_index', s.step_index, 'agent', s.agent, 'provider_id', s.provider_id,
             'model_id', s.model_id, 'finish_reason', s.finish_reason, 'input_tokens', s.input_tokens,
             'output_tokens', s.output_tokens, 'reasoning_tokens', s.reasoning_tokens,
             'cache_read_tokens', s.cache_read_tokens, 'cache_write_tokens', s.cache_write_tokens,
             'token_source', s.token_source, 'cost_usd', s.cost_usd, 'computed_cost_usd', s.computed_cost_usd,
             'completed', s.completed,
             'error_name', CASE WHEN s.is_last THEN er.error_name END,
             'error_category', CASE WHEN s.is_last THEN er.error_category END)
    FROM d_steps s LEFT JOIN comp c USING (exchange_id) LEFT JOIN errs er USING (message_id)
    UNION ALL
    SELECT t.exchange_id, t.part_id, coalesce(t.step_id, t.exchange_id), 'tool',
           'execute_tool ' || coalesce(t.tool_name, 'unknown'), t.started_at, t.ended_at, t.session_id, t.message_id,
           t.part_id,
           json_object('tool_name', t.tool_name, 'call_id', t.call_id, 'status', t.status, 'title', t.title,
             'execution_time_ms', t.execution_time_ms, 'error_category', t.error_category,
             'error_message', t.error_message, 'file_path', t.file_path, 'child_session_id', t.child_session_id)
    FROM tool_call_facts t WHERE t.exchange_id IS NOT NULL AND ${inScope(scope, 't.session_id')}
    UNION ALL
    SELECT r.exchange_id, r.part_id, coalesce(r.step_id, r.exchange_id), 'retry', 'retry', r.created_at,
           r.created_at, r.session_id, r.message_id, r.part_id,
           json_object('attempt', r.attempt, 'error_name', r.error_name, 'status_code', r.status_code,
             'error_category', r.error_category, 'is_retryable', r.is_retryable)
    FROM retries r WHERE r.exchange_id IS NOT NULL AND ${inScope(scope, 'r.session_id')}
    UNION ALL
    SELECT l.parent_exchange_id, l.attach_span_id, min(l.attach_parent_span_id), 'subagent',
           'invoke_agent ' || coalesce(${FIRST_AGENT}, 'subagent'), min(c.started_at), max(c.ended_at),
           l.child_session_id, NULL, NULL,
           json_object('child_session_id', l.child_session_id, 'agent', ${FIRST_AGENT},
             'title', min(s.title), 'exchange_count', count(*))
    FROM d_links l JOIN exchanges c ON c.exchange_id = l.child_exchange_id
    LEFT JOIN sessions s ON s.session_id = l.child_session_id
    GROUP BY l.parent_exchange_id, l.attach_span_id, l.child_session_id`,

    // a trace = the exchange's own spans + every nested descendant's spans but its root, whose children
    // hang from the sub-agent span instead (narrow: names and attributes stay in d_local)
    `CREATE OR REPLACE TEMP TABLE d_tree AS
    SELECT exchange_id, exchange_id AS owner, span_id, parent_span_id, kind, raw_start, raw_end, 0 AS depth
    FROM d_local
    UNION ALL
    SELECT c.ancestor, l.exchange_id, l.span_id,
           CASE WHEN l.parent_span_id = c.descendant THEN c.attach_span_id ELSE l.parent_span_id END,
           l.kind, l.raw_start, l.raw_end, c.depth
    FROM d_closure c JOIN d_local l ON l.exchange_id = c.descendant
    WHERE l.kind <> 'exchange'`,

    clearSql(scope, 'exchange_traces', 'session_id'),
    // top-down: a child starts no earlier than its parent and ends no later; a missing end becomes the
    // parent's end (still running), a missing start the parent's start
    `INSERT INTO exchange_traces
    WITH RECURSIVE t AS (
      SELECT exchange_id, owner, span_id, parent_span_id, kind, depth, raw_start, raw_end,
             raw_start AS s, coalesce(raw_end, raw_start) AS e, false AS clamped, 0 AS lvl
      FROM d_tree WHERE parent_span_id IS NULL
      UNION ALL
      SELECT c.exchange_id, c.owner, c.span_id, c.parent_span_id, c.kind, c.depth, c.raw_start, c.raw_end,
             least(greatest(coalesce(c.raw_start, t.s), t.s), t.e),
             least(greatest(coalesce(c.raw_end, t.e), least(greatest(coalesce(c.raw_start, t.s), t.s), t.e)), t.e),
             coalesce(c.raw_start < t.s OR c.raw_start > t.e OR c.raw_end > t.e OR c.raw_end < t.s
                      OR c.raw_end < c.raw_start, false),
             t.lvl + 1
      FROM t JOIN d_tree c ON c.exchange_id = t.exchange_id AND c.parent_span_id = t.span_id
      WHERE t.lvl < 32
    )
    SELECT t.exchange_id, t.span_id, t.parent_span_id, t.kind, l.name, t.s, t.e,
           l.session_id, l.message_id, l.part_id, t.depth,
           CAST(row_number() OVER (PARTITION BY t.exchange_id ORDER BY t.s NULLS FIRST, ${KIND_RANK.replaceAll('kind', 't.kind')}, t.lvl, t.span_id) AS INTEGER),
           t.clamped,
           CASE WHEN t.clamped THEN json_merge_patch(l.attributes,
                  json_object('clamped', true, 'original_start', t.raw_start, 'original_end', t.raw_end))
                ELSE l.attributes END
    FROM t JOIN d_local l ON l.exchange_id = t.owner AND l.span_id = t.span_id
    ORDER BY t.exchange_id, 12`,
  ];
}

/**
 * `exchanges`: one row per exchange root (user message) and per orphan exchange, with its own totals,
 * its status, and where it nests (a sub-agent session's exchange under the parent's `task` call).
 *
 * Temp tables built here: `d_ex` (own totals), `d_links` (child exchange → parent exchange and the
 * span it hangs from), `d_closure` (every ancestor/descendant pair of nested exchanges).
 */
import { clearSql, inScope, type Scope } from './scope.ts';

const TOKENS = ['input', 'output', 'reasoning', 'cache_read', 'cache_write'] as const;

export function exchangesSql(scope: Scope): string[] {
  const mf = inScope(scope, 'session_id');
  return [
    `CREATE OR REPLACE TEMP TABLE d_ex AS
    WITH ids AS (SELECT DISTINCT exchange_id, session_id FROM d_msg_ex),
    a AS (
      SELECT exchange_id, count(*) AS assistants, sum(coalesce(step_count, 0)) AS mf_steps,
             ${TOKENS.map((t) => `sum(${t}_tokens) AS ${t}_tokens`).join(', ')},
             CAST(sum(CAST(cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS cost_usd, CAST(sum(CAST(computed_cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS computed_cost_usd,
             count(*) FILTER (WHERE error_category IS NOT NULL) AS message_errors,
             bool_or(completed_at IS NULL AND error_name IS NULL) AS open_message,
             min(created_at) AS first_assistant_at,
             bool_or(reverted) AS any_reverted,
             arg_min(agent, (created_at, message_id)) AS agent,
             arg_min(provider_id, (created_at, message_id)) AS provider_id,
             arg_min(model_id, (created_at, message_id)) AS model_id,
             min(root_path) AS root_path
      FROM message_facts WHERE role = 'assistant' AND ${mf} GROUP BY exchange_id
    ),
    last AS (
      SELECT exchange_id, error_category AS last_error_category
      FROM message_facts WHERE role = 'assistant' AND ${mf}
      QUALIFY row_number() OVER (PARTITION BY exchange_id ORDER BY created_at DESC NULLS LAST, message_id DESC) = 1
    ),
    st AS (SELECT exchange_id, count(*) AS steps, max(ended_at) AS steps_end FROM d_steps GROUP BY 1),
    tc AS (
      SELECT exchange_id, count(*) AS tools, count(*) FILTER (WHERE status = 'error') AS tool_errors,
             count(*) FILTER (WHERE status IN ('pending', 'running')) AS open_tools,
             max(coalesce(ended_at, started_at)) AS tools_end
      FROM tool_call_facts WHERE ${mf} GROUP BY 1
    ),
    rt AS (SELECT exchange_id, count(*) AS retries, max(created_at) AS retries_end FROM retries WHERE ${mf} GROUP BY 1),
    rm AS (SELECT message_id, reverted, root_path FROM message_facts WHERE role <> 'assistant' AND ${mf})
    SELECT i.exchange_id, i.session_id, r.exchange_id AS user_message_id,
           coalesce(r.kind, 'orphan') AS kind,
           coalesce(r.created_at, a.first_assistant_at) AS started_at,
           greatest(st.steps_end, tc.tools_end, rt.retries_end) AS own_end,
           CAST(coalesce(a.assistants, 0) AS INTEGER) AS assistant_message_count,
           CAST(coalesce(st.steps, 0) AS INTEGER) AS step_count,
           CAST(coalesce(tc.tools, 0) AS INTEGER) AS tool_call_count,
           CAST(coalesce(tc.tool_errors, 0) AS INTEGER) AS tool_error_count,
           ${TOKENS.map((t) => `coalesce(a.${t}_tokens, 0) AS ${t}_tokens`).join(', ')},
           coalesce(a.cost_usd, 0) AS cost_usd, a.computed_cost_usd,
           CAST(coalesce(a.message_errors, 0) + coalesce(tc.tool_errors, 0) + coalesce(rt.retries, 0) AS INTEGER) AS error_count,
           l.last_error_category AS error_category,
           coalesce(a.agent, r.agent) AS agent, coalesce(a.provider_id, r.provider_id) AS provider_id,
           coalesce(a.model_id, r.model_id) AS model_id,
           CASE WHEN l.last_error_category IS NOT NULL THEN 'error'
                WHEN coalesce(a.assistants, 0) = 0 OR a.open_message OR coalesce(tc.open_tools, 0) > 0 THEN 'in_progress'
                ELSE 'complete' END AS status,
           coalesce(rm.reverted, a.any_reverted, false) AS reverted,
           coalesce(a.root_path, rm.root_path) AS root_path
    FROM ids i
    LEFT JOIN d_roots r ON r.exchange_id = i.exchange_id
    LEFT JOIN a ON a.exchange_id = i.exchange_id
    LEFT JOIN last l ON l.exchange_id = i.exchange_id
    LEFT JOIN st ON st.exchange_id = i.exchange_id
    LEFT JOIN tc ON tc.exchange_id = i.exchange_id
    LEFT JOIN rt ON rt.exchange_id = i.exchange_id
    LEFT JOIN rm ON rm.message_id = i.exchange_id`,

    // a sub-agent session's exchange hangs under the task call that started it (the latest one that
    // began before it), else under the parent session's exchange running when it started
    `CREATE OR REPLACE TEMP TABLE d_links AS
    WITH child AS (
      SELECT e.exchange_id, e.session_id, e.started_at, s.parent_session_id
      FROM d_ex e LEFT JOIN sessions s USING (session_id)
    ),
    by_tool AS (
      SELECT c.exchange_id AS child_exchange_id, c.session_id AS child_session_id,
             t.exchange_id AS parent_exchange_id, t.part_id AS parent_part_id
      FROM child c JOIN tool_call_facts t ON t.child_session_id = c.session_id AND t.session_id <> c.session_id
      WHERE t.exchange_id IS NOT NULL AND ${inScope(scope, 't.session_id')}
      QUALIFY row_number() OVER (PARTITION BY c.exchange_id
        ORDER BY (t.started_at <= c.started_at + INTERVAL 2 SECOND) DESC NULLS LAST, t.started_at DESC NULLS LAST, t.part_id) = 1
    ),
    by_session AS (
      SELECT c.exchange_id AS child_exchange_id, c.session_id AS child_session_id,
             p.exchange_id AS parent_exchange_id, NULL::VARCHAR AS parent_part_id
      FROM (SELECT * FROM child WHERE parent_session_id IS NOT NULL AND parent_session_id <> session_id
              AND exchange_id NOT IN (SELECT child_exchange_id FROM by_tool)) c
      ASOF JOIN d_ex p ON p.session_id = c.parent_session_id AND c.started_at >= p.started_at
    )
    SELECT *, 'subagent:' || coalesce(parent_part_id, child_session_id) AS attach_span_id,
           coalesce(parent_part_id, parent_exchange_id) AS attach_parent_span_id
    FROM (SELECT * FROM by_tool UNION ALL SELECT * FROM by_session)`,

    `CREATE OR REPLACE TEMP TABLE d_closure AS
    WITH RECURSIVE c(ancestor, descendant, attach_span_id, depth) AS (
      SELECT parent_exchange_id, child_exchange_id, attach_span_id, 1 FROM d_links
      UNION ALL
      SELECT c.ancestor, l.child_exchange_id, l.attach_span_id, c.depth + 1
      FROM c JOIN d_links l ON l.parent_exchange_id = c.descendant
      WHERE c.depth < 8 AND l.child_exchange_id <> c.ancestor
    )
    SELECT ancestor, descendant, arg_min(attach_span_id, (depth, attach_span_id)) AS attach_span_id, min(depth) AS depth
    FROM c GROUP BY ancestor, descendant`,

    clearSql(scope, 'exchanges'),
    `INSERT INTO exchanges
    WITH sub AS (
      SELECT c.ancestor AS exchange_id, count(DISTINCT d.session_id) AS sessions, count(*) AS exchanges,
             ${TOKENS.map((t) => `sum(d.${t}_tokens) AS ${t}_tokens`).join(', ')},
             CAST(sum(CAST(d.cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS cost_usd, CAST(sum(CAST(d.computed_cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS computed_cost_usd,
             max(d.own_end) AS own_end
      FROM d_closure c JOIN d_ex d ON d.exchange_id = c.descendant GROUP BY 1
    ),
    depth AS (SELECT descendant AS exchange_id, max(depth) AS depth FROM d_closure GROUP BY 1),
    e AS (
      SELECT d.*, greatest(d.own_end, sub.own_end, d.started_at) AS ended_at
      FROM d_ex d LEFT JOIN sub USING (exchange_id)
    )
    SELECT e.exchange_id, e.session_id, s.project_id, coalesce(e.root_path, s.directory, p.worktree),
           CAST(row_number() OVER (PARTITION BY e.session_id ORDER BY e.started_at NULLS LAST, e.exchange_id) AS INTEGER),
           e.user_message_id, e.kind, e.started_at, e.ended_at, date_diff('millisecond', e.started_at, e.ended_at),
           e.assistant_message_count, e.step_count, e.tool_call_count, e.tool_error_count,
           ${TOKENS.map((t) => `e.${t}_tokens`).join(', ')}, e.cost_usd, e.computed_cost_usd, e.error_count,
           e.error_category, e.agent, e.provider_id, e.model_id, e.status, e.reverted,
           l.parent_exchange_id, l.parent_part_id, CAST(coalesce(depth.depth, 0) AS INTEGER),
           CAST(coalesce(sub.sessions, 0) AS INTEGER), CAST(coalesce(sub.exchanges, 0) AS INTEGER),
           ${TOKENS.map((t) => `coalesce(sub.${t}_tokens, 0)`).join(', ')},
           coalesce(sub.cost_usd, 0), coalesce(sub.computed_cost_usd, 0)
    FROM e
    LEFT JOIN sub USING (exchange_id)
    LEFT JOIN depth USING (exchange_id)
    LEFT JOIN d_links l ON l.child_exchange_id = e.exchange_id
    LEFT JOIN sessions s ON s.session_id = e.session_id
    LEFT JOIN projects p ON p.project_id = s.project_id
    ORDER BY e.session_id, e.started_at`,
  ];
}

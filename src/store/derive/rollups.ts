/**
 * Rollups: `session_resource_metrics` (per session, own and with its sub-agents) and `daily_stats`
 * (per UTC day, project, provider, model, agent). daily_stats is recomputed for the days the scope
 * touches (`d_days`), over every session of those days.
 */
import { clearSql, inScope, type Scope } from './scope.ts';

const TOKENS = ['input', 'output', 'reasoning', 'cache_read', 'cache_write'] as const;

/** Before message_facts of the scope is replaced: remember the days its old rows were on. */
export function daysBeforeSql(scope: Scope): string[] {
  if (scope.all) return [];
  return [
    `CREATE OR REPLACE TEMP TABLE d_days AS
     SELECT DISTINCT CAST(created_at AS DATE) AS day FROM message_facts
     WHERE role = 'assistant' AND created_at IS NOT NULL AND ${inScope(scope, 'session_id')}`,
  ];
}

export function rollupsSql(scope: Scope): string[] {
  const s = inScope(scope, 'session_id');
  const dayFilter = scope.all ? 'TRUE' : 'CAST(m.created_at AS DATE) IN (SELECT day FROM d_days)';
  return [
    `CREATE OR REPLACE TEMP TABLE d_sess_closure AS
    WITH RECURSIVE c(ancestor, descendant, depth) AS (
      SELECT parent, child, 1 FROM d_edges WHERE ${inScope(scope, 'parent')}
      UNION ALL
      SELECT c.ancestor, e.child, c.depth + 1 FROM c JOIN d_edges e ON e.parent = c.descendant
      WHERE c.depth < 16 AND e.child <> c.ancestor
    )
    SELECT ancestor, descendant, min(depth) AS depth FROM c GROUP BY ALL`,

    clearSql(scope, 'session_resource_metrics'),
    `INSERT INTO session_resource_metrics
    WITH ids AS (
      SELECT session_id FROM sessions WHERE ${s}
      UNION SELECT DISTINCT session_id FROM message_facts WHERE ${s}
    ),
    mf AS (
      SELECT session_id, count(*) AS messages,
             count(*) FILTER (WHERE role IN ('user', 'synthetic', 'compaction')) AS users,
             count(*) FILTER (WHERE role = 'assistant') AS assistants,
             ${TOKENS.map((t) => `sum(${t}_tokens) FILTER (WHERE role = 'assistant') AS ${t}_tokens`).join(', ')},
             CAST(sum(CAST(cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS cost_usd, CAST(sum(CAST(computed_cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS computed_cost_usd,
             count(*) FILTER (WHERE error_category IS NOT NULL) AS message_errors,
             min(created_at) AS first_at, max(greatest(created_at, completed_at)) AS last_at,
             count(*) FILTER (WHERE reverted) AS reverted, min(root_path) AS root_path
      FROM message_facts WHERE ${s} GROUP BY 1
    ),
    ex AS (SELECT session_id, count(*) AS exchanges, sum(step_count) AS steps, max(ended_at) AS ex_end
           FROM exchanges WHERE ${s} GROUP BY 1),
    tc AS (SELECT session_id, count(*) AS tools, count(*) FILTER (WHERE status = 'error') AS tool_errors,
                  sum(execution_time_ms) AS tool_ms, avg(execution_time_ms) AS tool_avg_ms
           FROM tool_call_facts WHERE ${s} GROUP BY 1),
    rt AS (SELECT session_id, count(*) AS retries FROM retries WHERE ${s} GROUP BY 1),
    cp AS (SELECT session_id, count(*) AS compactions FROM compactions WHERE ${s} GROUP BY 1),
    own AS (
      SELECT i.session_id, ${TOKENS.map((t) => `coalesce(mf.${t}_tokens, 0) AS ${t}_tokens`).join(', ')},
             coalesce(mf.cost_usd, 0) AS cost_usd, coalesce(mf.computed_cost_usd, 0) AS computed_cost_usd
      FROM ids i LEFT JOIN mf USING (session_id)
    ),
    sub AS (
      SELECT c.ancestor AS session_id, count(*) AS sessions,
             ${TOKENS.map((t) => `sum(o.${t}_tokens) AS ${t}_tokens`).join(', ')},
             CAST(sum(CAST(o.cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS cost_usd, CAST(sum(CAST(o.computed_cost_usd AS DECIMAL(38, 15))) AS DOUBLE) AS computed_cost_usd
      FROM d_sess_closure c JOIN own o ON o.session_id = c.descendant GROUP BY 1
    ),
    subex AS (
      SELECT c.ancestor AS session_id, count(*) AS exchanges
      FROM d_sess_closure c JOIN exchanges e ON e.session_id = c.descendant GROUP BY 1
    ),
    root AS (SELECT descendant AS session_id, arg_max(ancestor, depth) AS root_session_id
             FROM d_sess_closure GROUP BY 1)
    SELECT i.session_id, s.project_id, p.worktree, coalesce(mf.root_path, s.directory, p.worktree),
           s.parent_session_id, coalesce(root.root_session_id, i.session_id), s.title, s.agent, s.version,
           coalesce(s.created_at, mf.first_at),
           greatest(mf.last_at, ex.ex_end, s.created_at),
           date_diff('millisecond', coalesce(s.created_at, mf.first_at), greatest(mf.last_at, ex.ex_end, s.created_at)),
           CAST(coalesce(mf.messages, 0) AS INTEGER), CAST(coalesce(mf.users, 0) AS INTEGER),
           CAST(coalesce(mf.assistants, 0) AS INTEGER), CAST(coalesce(ex.exchanges, 0) AS INTEGER),
           CAST(coalesce(ex.steps, 0) AS INTEGER), CAST(coalesce(tc.tools, 0) AS INTEGER),
           CAST(coalesce(tc.tool_errors, 0) AS INTEGER), coalesce(tc.tool_ms, 0), tc.tool_avg_ms,
           CAST(coalesce(mf.message_errors, 0) + coalesce(tc.tool_errors, 0) + coalesce(rt.retries, 0) AS INTEGER),
           CAST(coalesce(rt.retries, 0) AS INTEGER), CAST(coalesce(cp.compactions, 0) AS INTEGER),
           ${TOKENS.map((t) => `o.${t}_tokens`).join(', ')}, o.cost_usd, o.computed_cost_usd,
           CAST(coalesce(sub.sessions, 0) AS INTEGER), CAST(coalesce(subex.exchanges, 0) AS INTEGER),
           ${TOKENS.map((t) => `coalesce(sub.${t}_tokens, 0)`).join(', ')},
           coalesce(sub.cost_usd, 0), coalesce(sub.computed_cost_usd, 0),
           o.cost_usd + coalesce(sub.cost_usd, 0), o.computed_cost_usd + coalesce(sub.computed_cost_usd, 0),
           coalesce(d.files, s.summary_files), coalesce(d.additions, s.summary_additions),
           coalesce(d.deletions, s.summary_deletions), CAST(coalesce(mf.reverted, 0) AS INTEGER)
    FROM ids i
    JOIN own o USING (session_id)
    LEFT JOIN sessions s USING (session_id)
    LEFT JOIN projects p ON p.project_id = s.project_id
    LEFT JOIN session_diffs d USING (session_id)
    LEFT JOIN mf USING (session_id)
    LEFT JOIN ex USING (session_id)
    LEFT JOIN tc USING (session_id)
    LEFT JOIN rt USING (session_id)
    LEFT JOIN cp USING (session_id)
    LEFT JOIN sub USING (session_id)
    LEFT JOIN subex USING (session_id)
    LEFT JOIN root USING (session_id)
    ORDER BY s.project_id, 10`,

    ...(scope.all
      ? ['DELETE FROM daily_stats']
      : [
          `INSERT INTO d_days SELECT DISTINCT CAST(created_at AS DATE) FROM message_facts
           WHERE role = 'assistant' AND created_at IS NOT NULL AND ${s}
             AND CAST(created_at AS DATE) NOT IN (SELECT day FROM d_days)`,
          'DELETE FROM daily_stats WHERE day IN (SELECT day FROM d_days)',
        ]),
    `INSERT INTO daily_stats
    WITH te AS (SELECT message_id, count(*) FILTER (WHERE status = 'error') AS errors FROM tool_call_facts GROUP BY 1),
    re AS (SELECT message_id, count(*) AS retries FROM retries GROUP BY 1)
    SELECT CAST(m.created_at AS DATE) AS day, m.project_id, m.provider_id, m.model_id, m.agent,
           CAST(count(DISTINCT m.session_id) AS INTEGER), CAST(count(DISTINCT m.exchange_id) AS INTEGER),
           CAST(count(*) AS INTEGER), CAST(sum(coalesce(m.step_count, 0)) AS INTEGER),
           CAST(sum(m.tool_call_count) AS INTEGER), CAST(coalesce(sum(te.errors), 0) AS INTEGER),
           CAST(count(m.error_category) + coalesce(sum(te.errors), 0) + coalesce(sum(re.retries), 0) AS INTEGER),
           ${TOKENS.map((t) => `sum(m.${t}_tokens)`).join(', ')}, CAST(sum(CAST(m.cost_usd AS DECIMAL(38, 15))) AS DOUBLE), CAST(sum(CAST(m.computed_cost_usd AS DECIMAL(38, 15))) AS DOUBLE)
    FROM message_facts m LEFT JOIN te USING (message_id) LEFT JOIN re USING (message_id)
    WHERE m.role = 'assistant' AND m.created_at IS NOT NULL AND ${dayFilter}
    GROUP BY ALL
    ORDER BY day, 2`,
  ];
}

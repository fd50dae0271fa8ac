/**
 * The SQL behind the API routes, over the analytics tables (docs/schema.md). Every value from a
 * request is a bound parameter; the only SQL chosen by a request is picked from fixed maps (sort
 * column, group-by bucket), never spliced from its text.
 */
import { traceIdSql } from '../domain/trace-ids.ts';

/** `up`/`roots` CTEs: the seed of the top-level exchange above each exchange in `start`. */
function rootSeedCtes(start: string): string {
  return `up AS (
      SELECT e.exchange_id AS start_id, e.parent_exchange_id, coalesce(e.user_message_id, e.exchange_id) AS seed, 0 AS n
      FROM exchanges e WHERE e.exchange_id IN (SELECT ${start === 'fx' ? 'first_exchange_id' : 'exchange_id'} FROM ${start})
      UNION ALL
      SELECT up.start_id, p.parent_exchange_id, coalesce(p.user_message_id, p.exchange_id), up.n + 1
      FROM up JOIN exchanges p ON p.exchange_id = up.parent_exchange_id WHERE up.n < 64
    ),
    roots AS (SELECT start_id AS exchange_id, seed FROM up WHERE parent_exchange_id IS NULL)`;
}

const TOKENS = `input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens`;
const SUM_TOKENS = `sum(input_tokens)::BIGINT AS input_tokens, sum(output_tokens)::BIGINT AS output_tokens,
  sum(reasoning_tokens)::BIGINT AS reasoning_tokens, sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
  sum(cache_write_tokens)::BIGINT AS cache_write_tokens`;
const SUM_COST = `sum(cost_usd)::DOUBLE AS cost_usd, sum(computed_cost_usd)::DOUBLE AS computed_cost_usd`;

export const SESSION_SORTS = {
  started_at: "epoch_us(coalesce(s.started_at, TIMESTAMP '1970-01-01'))::DOUBLE",
  ended_at: "epoch_us(coalesce(s.ended_at, s.started_at, TIMESTAMP '1970-01-01'))::DOUBLE",
  duration_ms: 'coalesce(s.duration_ms, -1)::DOUBLE',
  cost_usd: 'coalesce(s.cost_usd, -1)::DOUBLE',
  computed_cost_usd: 'coalesce(s.computed_cost_usd, -1)::DOUBLE',
  exchange_count: 'coalesce(s.exchange_count, -1)::DOUBLE',
  tokens:
    'coalesce(s.input_tokens + s.output_tokens + s.reasoning_tokens + s.cache_read_tokens + s.cache_write_tokens, -1)::DOUBLE',
} as const;
export type SessionSort = keyof typeof SESSION_SORTS;

export interface SessionFilter {
  id?: string;
  parent?: string;
  project?: string;
  agent?: string;
  model?: string;
  from?: string | null;
  to?: string | null;
  minCost?: number;
  rootOnly?: boolean;
  /** with `id`: the session and its direct sub-agent sessions */
  withChildren?: boolean;
  sort: SessionSort;
  order: 'asc' | 'desc';
  cursor?: { k: number; id: string };
  limit: number;
}

/** Flat session rows (the contract of GET /api/sessions), plus `sort_key` for the cursor. */
export function sessionsQuery(f: SessionFilter): { sql: string; params: unknown[] } {
  const key = SESSION_SORTS[f.sort];
  const cmp = f.order === 'desc' ? '<' : '>';
  const dir = f.order === 'desc' ? 'DESC' : 'ASC';
  const params: unknown[] = [
    f.id ?? null, // $1
    f.parent ?? null, // $2
    f.project ?? null, // $3
    f.agent ?? null, // $4
    f.model ?? null, // $5
    f.from ?? null, // $6
    f.to ?? null, // $7
    f.minCost ?? null, // $8
    f.cursor?.k ?? null, // $9
    f.cursor?.id ?? null, // $10
    f.limit, // $11
    f.rootOnly === true, // $12
    f.withChildren === true, // $13
  ];
  const sql = `
    WITH RECURSIVE page AS (
      SELECT * FROM (
        SELECT s.session_id, s.title, s.project_id,
          coalesce(nullif(p.name, ''), p.worktree, s.worktree, s.project_id) AS project,
          s.agent, s.started_at, s.ended_at, s.duration_ms, s.exchange_count, s.input_tokens, s.output_tokens,
          s.reasoning_tokens, s.cache_read_tokens, s.cache_write_tokens, s.cost_usd::DOUBLE AS cost_usd,
          s.computed_cost_usd::DOUBLE AS computed_cost_usd, s.error_count, s.parent_session_id,
          s.tool_call_count, s.subagent_session_count, s.total_cost_usd::DOUBLE AS total_cost_usd,
          s.total_computed_cost_usd::DOUBLE AS total_computed_cost_usd,
          ${key} AS sort_key
        FROM session_resource_metrics s
        LEFT JOIN projects p ON p.project_id = s.project_id
        WHERE ($1::VARCHAR IS NULL OR s.session_id = $1 OR ($13::BOOLEAN AND s.parent_session_id = $1))
          AND ($2::VARCHAR IS NULL OR s.parent_session_id = $2)
          AND ($3::VARCHAR IS NULL OR s.project_id = $3 OR s.worktree = $3 OR p.worktree = $3 OR p.name = $3)
          AND ($4::VARCHAR IS NULL OR s.agent = $4 OR (s.agent IS NULL AND s.session_id IN (
                SELECT session_id FROM exchanges WHERE agent = $4)))
          AND ($5::VARCHAR IS NULL OR s.session_id IN (
                SELECT session_id FROM exchanges WHERE model_id = $5 OR provider_id || '/' || model_id = $5))
          AND ($6::TIMESTAMP IS NULL OR coalesce(s.ended_at, s.started_at) >= $6::TIMESTAMP)
          AND ($7::TIMESTAMP IS NULL OR s.started_at < $7::TIMESTAMP)
          AND (NOT $12::BOOLEAN OR s.parent_session_id IS NULL)
          AND ($8::DOUBLE IS NULL OR greatest(coalesce(s.cost_usd, 0), coalesce(s.computed_cost_usd, 0)) >= $8::DOUBLE)
      )
      WHERE ($9::DOUBLE IS NULL OR sort_key ${cmp} $9::DOUBLE OR (sort_key = $9::DOUBLE AND session_id ${cmp} $10::VARCHAR))
      ORDER BY sort_key ${dir}, session_id ${dir}
      LIMIT $11
    ),
    fx AS (
      SELECT session_id, exchange_id AS first_exchange_id, provider_id, model_id, agent FROM exchanges
      WHERE exchange_index = 1 AND session_id IN (SELECT session_id FROM page)
    ),
    ${rootSeedCtes('fx')}
    SELECT page.session_id, page.title, page.project_id, page.project, coalesce(page.agent, fx.agent) AS agent,
      fx.model_id, fx.provider_id, page.* EXCLUDE (session_id, title, project_id, project, agent, sort_key),
      CASE WHEN roots.seed IS NULL THEN NULL ELSE ${traceIdSql('roots.seed')} END AS trace_id,
      page.sort_key
    FROM page LEFT JOIN fx USING (session_id) LEFT JOIN roots ON roots.exchange_id = fx.first_exchange_id
    ORDER BY page.sort_key ${dir}, page.session_id ${dir}`;
  return { sql, params };
}

const EXCHANGE_COLUMNS = `e.exchange_id, e.session_id, e.project_id, e.exchange_index, e.kind, e.status,
  e.started_at, e.ended_at, e.duration_ms, e.agent, e.provider_id, e.model_id, e.user_message_id,
  e.assistant_message_count, e.step_count, e.tool_call_count, e.tool_error_count, e.error_count, e.error_category,
  e.input_tokens, e.output_tokens, e.reasoning_tokens, e.cache_read_tokens, e.cache_write_tokens,
  e.cost_usd::DOUBLE AS cost_usd, e.computed_cost_usd::DOUBLE AS computed_cost_usd, e.reverted,
  e.parent_exchange_id, e.parent_part_id, e.nesting_depth, e.subagent_session_count, e.subagent_exchange_count,
  e.subagent_cost_usd::DOUBLE AS subagent_cost_usd, e.subagent_computed_cost_usd::DOUBLE AS subagent_computed_cost_usd`;

function exchangesSql(where: string): string {
  return `
  WITH RECURSIVE sel AS (SELECT * FROM exchanges WHERE ${where}),
  ${rootSeedCtes('sel')}
  SELECT ${EXCHANGE_COLUMNS}, ${traceIdSql('roots.seed')} AS trace_id
  FROM sel e LEFT JOIN roots USING (exchange_id)
  ORDER BY e.started_at NULLS FIRST, e.exchange_index, e.exchange_id`;
}

/** The exchanges of session $1, with the trace ID their spans are exported under. */
export const SESSION_EXCHANGES_SQL = exchangesSql('session_id = $1');
/** Exchange $1. */
export const EXCHANGE_SQL = exchangesSql('exchange_id = $1');

/** ISO-8601 UTC with milliseconds, exactly as JavaScript's toISOString (plain strings convert fastest). */
const iso = (c: string) => `strftime(${c}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

/** Span columns as plain JSON types only (VARCHAR, DOUBLE, INTEGER, BOOLEAN): see `ConnectionPool.plainRows`. */
const SPAN_COLUMNS = `span_id, parent_span_id, kind, name, ${iso('started_at')} AS started_at, ${iso('ended_at')} AS ended_at,
  (epoch_ms(ended_at) - epoch_ms(started_at))::DOUBLE AS duration_ms, depth::INTEGER AS depth, exchange_id, session_id,
  message_id, part_id, clamped`;

/** The span tree of a session (session_traces: a `session:<id>` root, its exchanges beneath). */
export const SESSION_TRACE_SQL = `
  SELECT ${SPAN_COLUMNS}, CASE WHEN $2 THEN attributes END AS attributes FROM (
    SELECT x.session_id AS owner, 'session:' || x.session_id AS span_id, NULL::VARCHAR AS parent_span_id,
           'session' AS kind, coalesce(any_value(s.title), x.session_id) AS name, min(x.started_at) AS started_at,
           max(x.ended_at) AS ended_at, 0 AS depth, NULL::VARCHAR AS exchange_id, x.session_id AS session_id,
           NULL::VARCHAR AS message_id, NULL::VARCHAR AS part_id, false AS clamped,
           json_object('project_id', any_value(s.project_id), 'parent_session_id', any_value(s.parent_session_id)) AS attributes,
           -1 AS span_index
    FROM exchanges x LEFT JOIN sessions s USING (session_id) WHERE x.session_id = $1 GROUP BY x.session_id
    UNION ALL
    SELECT $1, t.span_id, coalesce(t.parent_span_id, 'session:' || $1), t.kind, t.name, t.started_at, t.ended_at,
           t.depth + 1, t.exchange_id, t.session_id, t.message_id, t.part_id, t.clamped,
           CASE WHEN $2 THEN t.attributes END, t.span_index
    FROM exchange_traces t
    WHERE t.exchange_id IN (SELECT exchange_id FROM exchanges WHERE session_id = $1)
  )
  ORDER BY started_at NULLS FIRST, depth, span_index, span_id`;

/** The span tree of one exchange. */
export const EXCHANGE_SPANS_SQL = `
  SELECT ${SPAN_COLUMNS}, attributes FROM exchange_traces WHERE exchange_id = $1
  ORDER BY started_at NULLS FIRST, depth, span_index, span_id`;

export const USAGE_GROUPS = {
  day: "date_trunc('day', m.created_at)",
  hour: "date_trunc('hour', m.created_at)",
  model: "coalesce(m.model_id, 'unknown')",
  provider: "coalesce(m.provider_id, 'unknown')",
  agent: "coalesce(m.agent, 'unknown')",
  project: "coalesce(m.project_id, 'unknown')",
} as const;
export type UsageGroup = keyof typeof USAGE_GROUPS;

/** $1 from, $2 to, $3 project, $4 agent, $5 model, $6 provider. */
const MESSAGE_FILTER = `m.role = 'assistant'
  AND ($1::TIMESTAMP IS NULL OR m.created_at >= $1::TIMESTAMP)
  AND ($2::TIMESTAMP IS NULL OR m.created_at < $2::TIMESTAMP)
  AND ($3::VARCHAR IS NULL OR m.project_id = $3 OR m.project_id IN (SELECT project_id FROM projects WHERE worktree = $3 OR name = $3))
  AND ($4::VARCHAR IS NULL OR m.agent = $4)
  AND ($5::VARCHAR IS NULL OR m.model_id = $5 OR m.provider_id || '/' || m.model_id = $5)
  AND ($6::VARCHAR IS NULL OR m.provider_id = $6)`;

export function usageQuery(group: UsageGroup): string {
  return `
    SELECT ${USAGE_GROUPS[group]} AS bucket, ${SUM_TOKENS}, ${SUM_COST},
           count(DISTINCT m.exchange_id)::BIGINT AS exchanges, count(*)::BIGINT AS llm_messages
    FROM message_facts m
    WHERE ${MESSAGE_FILTER}
    GROUP BY 1 ORDER BY ${group === 'day' || group === 'hour' ? '1' : 'computed_cost_usd DESC NULLS LAST, cost_usd DESC, 1'}`;
}

/** $1 from, $2 to, $3 project. */
export const TOOLS_SQL = `
  SELECT coalesce(tool_name, 'unknown') AS tool, count(*)::BIGINT AS calls,
         count(*) FILTER (WHERE status = 'error')::BIGINT AS errors,
         round(count(*) FILTER (WHERE status = 'error') / count(*), 4)::DOUBLE AS error_rate,
         quantile_cont(execution_time_ms, 0.5)::DOUBLE AS p50_ms,
         quantile_cont(execution_time_ms, 0.95)::DOUBLE AS p95_ms,
         quantile_cont(execution_time_ms, 0.99)::DOUBLE AS p99_ms,
         sum(execution_time_ms)::BIGINT AS total_ms
  FROM tool_call_facts t
  WHERE ($1::TIMESTAMP IS NULL OR t.started_at >= $1::TIMESTAMP)
    AND ($2::TIMESTAMP IS NULL OR t.started_at < $2::TIMESTAMP)
    AND ($3::VARCHAR IS NULL OR t.project_id = $3 OR t.project_id IN (SELECT project_id FROM projects WHERE worktree = $3 OR name = $3))
  GROUP BY 1 ORDER BY calls DESC, tool`;

/** $1 from, $2 to, $3 project, $4 category, $5 source. */
export const ERRORS_SQL = `
  SELECT error_category AS category, source, provider_id, model_id, count(*)::BIGINT AS count,
         max(occurred_at) AS last_seen, arg_max(left(error_message, 500), occurred_at) AS example,
         arg_max(session_id, occurred_at) AS example_session_id
  FROM errors r
  WHERE ($1::TIMESTAMP IS NULL OR r.occurred_at >= $1::TIMESTAMP)
    AND ($2::TIMESTAMP IS NULL OR r.occurred_at < $2::TIMESTAMP)
    AND ($3::VARCHAR IS NULL OR r.project_id = $3 OR r.project_id IN (SELECT project_id FROM projects WHERE worktree = $3 OR name = $3))
    AND ($4::VARCHAR IS NULL OR r.error_category = $4)
    AND ($5::VARCHAR IS NULL OR r.source = $5)
  GROUP BY ALL ORDER BY count DESC, category, source, provider_id, model_id`;

/** $1 from, $2 to (sessions active in the range). */
export const PROJECTS_SQL = `
  WITH s AS (
    SELECT * FROM session_resource_metrics
    WHERE ($1::TIMESTAMP IS NULL OR coalesce(ended_at, started_at) >= $1::TIMESTAMP)
      AND ($2::TIMESTAMP IS NULL OR started_at < $2::TIMESTAMP)
  ),
  ids AS (SELECT project_id FROM projects UNION SELECT project_id FROM s WHERE project_id IS NOT NULL)
  SELECT ids.project_id, coalesce(nullif(p.name, ''), p.worktree, any_value(s.worktree), ids.project_id) AS project,
         p.worktree, p.vcs, count(s.session_id)::BIGINT AS sessions,
         min(s.started_at) AS first_seen, max(coalesce(s.ended_at, s.started_at)) AS last_seen,
         ${SUM_TOKENS}, ${SUM_COST}
  FROM ids LEFT JOIN projects p USING (project_id) LEFT JOIN s USING (project_id)
  GROUP BY ids.project_id, p.name, p.worktree, p.vcs
  ORDER BY last_seen DESC NULLS LAST, ids.project_id`;

/** $1 from, $2 to, … (MESSAGE_FILTER): models used, with the price row that prices them. */
export const MODELS_SQL = `
  WITH u AS (
    SELECT m.provider_id, m.model_id, count(*)::BIGINT AS llm_messages, sum(m.step_count)::BIGINT AS steps,
           ${SUM_TOKENS}, ${SUM_COST}, min(m.created_at) AS first_seen, max(m.created_at) AS last_seen
    FROM message_facts m WHERE ${MESSAGE_FILTER} GROUP BY ALL
  )
  SELECT u.provider_id, u.model_id, u.llm_messages, u.steps, u.${TOKENS.replaceAll(', ', ', u.')},
         u.cost_usd, u.computed_cost_usd, u.first_seen, u.last_seen,
         k.match AS price_match, k.price_provider_id, k.price_model_id,
         mp.input_per_mtok, mp.output_per_mtok, mp.cache_read_per_mtok, mp.cache_write_per_mtok,
         tiers.n AS price_tiers,
         mp.source AS pricing_source, strftime(mp.as_of, '%Y-%m-%d') AS pricing_as_of
  FROM u
  LEFT JOIN model_price_key k ON k.provider_id = u.provider_id AND k.model_id = u.model_id
  LEFT JOIN model_pricing mp ON mp.provider_id = k.price_provider_id AND mp.model_id = k.price_model_id
       AND mp.tier_min_context_tokens = 0
  LEFT JOIN (SELECT provider_id, model_id, count(*)::BIGINT AS n FROM model_pricing GROUP BY ALL) tiers
       ON tiers.provider_id = k.price_provider_id AND tiers.model_id = k.price_model_id
  ORDER BY u.computed_cost_usd DESC NULLS LAST, u.cost_usd DESC, u.provider_id, u.model_id`;

/**
 * $1 from, $2 to, $3 project ($4–$6 of MESSAGE_FILTER: null): the totals of a range, each counted as
 * the list route of its kind counts it (LLM usage as /api/usage, sessions active in the range as
 * /api/sessions, tool calls as /api/tools, errors as /api/errors).
 */
export const SUMMARY_SQL = `
  WITH m AS (
    SELECT ${SUM_TOKENS}, ${SUM_COST}, count(DISTINCT m.exchange_id)::BIGINT AS exchanges,
           count(*)::BIGINT AS llm_messages
    FROM message_facts m
    WHERE ${MESSAGE_FILTER}
  ),
  s AS (
    SELECT count(*)::BIGINT AS sessions, count(*) FILTER (WHERE s.parent_session_id IS NULL)::BIGINT AS root_sessions
    FROM session_resource_metrics s LEFT JOIN projects p ON p.project_id = s.project_id
    WHERE ($1::TIMESTAMP IS NULL OR coalesce(s.ended_at, s.started_at) >= $1::TIMESTAMP)
      AND ($2::TIMESTAMP IS NULL OR s.started_at < $2::TIMESTAMP)
      AND ($3::VARCHAR IS NULL OR s.project_id = $3 OR s.worktree = $3 OR p.worktree = $3 OR p.name = $3)
  ),
  t AS (
    SELECT count(*)::BIGINT AS tool_calls, count(*) FILTER (WHERE status = 'error')::BIGINT AS tool_errors
    FROM tool_call_facts t
    WHERE ($1::TIMESTAMP IS NULL OR t.started_at >= $1::TIMESTAMP)
      AND ($2::TIMESTAMP IS NULL OR t.started_at < $2::TIMESTAMP)
      AND ($3::VARCHAR IS NULL OR t.project_id = $3 OR t.project_id IN (SELECT project_id FROM projects WHERE worktree = $3 OR name = $3))
  ),
  r AS (
    SELECT count(*)::BIGINT AS errors FROM errors r
    WHERE ($1::TIMESTAMP IS NULL OR r.occurred_at >= $1::TIMESTAMP)
      AND ($2::TIMESTAMP IS NULL OR r.occurred_at < $2::TIMESTAMP)
      AND ($3::VARCHAR IS NULL OR r.project_id = $3 OR r.project_id IN (SELECT project_id FROM projects WHERE worktree = $3 OR name = $3))
  )
  SELECT s.sessions, s.root_sessions, m.exchanges, m.llm_messages,
         coalesce(m.input_tokens, 0)::BIGINT AS input_tokens, coalesce(m.output_tokens, 0)::BIGINT AS output_tokens,
         coalesce(m.reasoning_tokens, 0)::BIGINT AS reasoning_tokens,
         coalesce(m.cache_read_tokens, 0)::BIGINT AS cache_read_tokens,
         coalesce(m.cache_write_tokens, 0)::BIGINT AS cache_write_tokens,
         coalesce(m.input_tokens + m.output_tokens + m.reasoning_tokens + m.cache_read_tokens + m.cache_write_tokens, 0)::BIGINT AS tokens,
         (m.cache_read_tokens / nullif(m.input_tokens + m.cache_read_tokens + m.cache_write_tokens, 0))::DOUBLE AS cache_hit_ratio,
         coalesce(m.cost_usd, 0)::DOUBLE AS cost_usd, m.computed_cost_usd,
         t.tool_calls, t.tool_errors, r.errors
  FROM m, s, t, r`;

/** The latest run of the data health checks (health_check_history), failing checks first. */
export const HEALTH_CHECKS_SQL = `
  SELECT check_id, status, value, warn_threshold, fail_threshold, explanation, checked_at, run_id
  FROM health_check_history
  WHERE run_id = (SELECT arg_max(run_id, checked_at) FROM health_check_history)
  ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, check_id`;

/**
 * The terminal reports (`ocbridge report …`): one SQL per report over the analytics model, filtered
 * by a time window (`since` inclusive, `until` exclusive) and a project (its ID, or part of its
 * worktree path). Each report returns its rows at full precision, with stable column names, and a
 * totals row computed over the whole window (not only the rows a limit keeps): token and cost sums,
 * and sessions counted once however many days, agents or models they used.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type JsonRow, queryRows } from './query.ts';

export const REPORTS = ['sessions', 'daily', 'weekly', 'monthly', 'models', 'tools', 'errors'] as const;
export type ReportName = (typeof REPORTS)[number];

export interface ReportOptions {
  /** Only activity at or after this time (ISO date or timestamp, UTC). */
  since?: string;
  /** Only activity before this time (ISO date or timestamp, UTC; exclusive). */
  until?: string;
  /** Project ID, or a substring of the project's worktree / root path. */
  project?: string;
  /** At most this many rows (top-level sessions for `sessions`). */
  limit?: number;
  /** `sessions`: every session on its own row, sorted by its own cost, instead of sub-agents nested. */
  flat?: boolean;
}

export interface ReportResult {
  rows: JsonRow[];
  totals: JsonRow;
}

/** $1 since, $2 until, $3 project, $4 limit. */
const PROJECT = `($3::VARCHAR IS NULL OR project_id = $3 OR project_id IN (
  SELECT project_id FROM projects WHERE contains(worktree, $3)))`;
const AT = (col: string) =>
  `($1::TIMESTAMP IS NULL OR ${col} >= $1::TIMESTAMP) AND ($2::TIMESTAMP IS NULL OR ${col} < $2::TIMESTAMP)`;
/** Day-granular tables (daily_stats): a day is in the window when any of it is. */
const ON_DAY = (col: string) =>
  `($1::TIMESTAMP IS NULL OR ${col} >= CAST($1::TIMESTAMP AS DATE)) AND ($2::TIMESTAMP IS NULL OR ${col} < $2::TIMESTAMP)`;

const TOKEN_SUMS = `sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
  sum(reasoning_tokens) AS reasoning_tokens, sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  sum(input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens) AS tokens,
  sum(cost_usd) AS cost_usd, sum(computed_cost_usd) AS computed_cost_usd`;

const PERIOD: Record<'daily' | 'weekly' | 'monthly', { col: string; bucket: (day: string) => string }> = {
  daily: { col: 'day', bucket: (d) => `strftime(${d}, '%Y-%m-%d')` },
  // ISO weeks, named by their Monday
  weekly: { col: 'week', bucket: (d) => `strftime(date_trunc('week', ${d}), '%Y-%m-%d')` },
  monthly: { col: 'month', bucket: (d) => `strftime(${d}, '%Y-%m')` },
};

/**
 * Sessions per period from message_facts: a session counts once in each period it has a message in
 * (daily_stats counts it once per agent, provider and model, so its sums would overcount).
 */
function periodSql(kind: keyof typeof PERIOD, grouped: boolean): string {
  const { col, bucket } = PERIOD[kind];
  const by = (d: string) => (grouped ? `${bucket(d)} AS ${col},` : '');
  const group = grouped ? 'GROUP BY 1' : '';
  const stats = `SELECT ${by('day')} sum(exchange_count) AS exchanges, sum(assistant_message_count) AS llm_messages,
      sum(tool_call_count) AS tool_calls, sum(error_count) AS errors, ${TOKEN_SUMS},
      string_agg(DISTINCT model_id, ', ' ORDER BY model_id) AS models
    FROM daily_stats WHERE ${ON_DAY('day')} AND ${PROJECT} ${group}`;
  const sessions = `SELECT ${by('CAST(created_at AS DATE)')} count(DISTINCT session_id) AS sessions
    FROM message_facts WHERE created_at IS NOT NULL AND ${ON_DAY('CAST(created_at AS DATE)')} AND ${PROJECT} ${group}`;
  if (!grouped) return `SELECT s.sessions, d.* FROM (${stats}) d, (${sessions}) s`;
  return `SELECT ${col}, coalesce(s.sessions, 0) AS sessions, d.* EXCLUDE (${col})
    FROM (${stats}) d FULL JOIN (${sessions}) s USING (${col})
    ORDER BY ${col} DESC LIMIT $4`;
}

const SESSION_COLS = `session_id, parent_session_id, title, coalesce(worktree, root_path) AS project, project_id,
  agent, strftime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS started_at,
  strftime(ended_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS ended_at, duration_ms, exchange_count AS exchanges,
  assistant_message_count AS llm_messages, tool_call_count AS tool_calls, tool_error_count AS tool_errors,
  error_count AS errors, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens,
  input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens AS tokens,
  cost_usd, computed_cost_usd, subagent_session_count AS subagents,
  input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens
    + subagent_input_tokens + subagent_output_tokens + subagent_reasoning_tokens + subagent_cache_read_tokens
    + subagent_cache_write_tokens AS total_tokens,
  total_cost_usd, total_computed_cost_usd`;
/** A session is in the window when it was active in it. */
const SESSION_WHERE = `($1::TIMESTAMP IS NULL OR ended_at >= $1::TIMESTAMP)
  AND ($2::TIMESTAMP IS NULL OR started_at < $2::TIMESTAMP) AND ${PROJECT}`;

const SQL = {
  models: (grouped: boolean) => `
    SELECT ${grouped ? 'provider_id, model_id,' : 'count(DISTINCT (provider_id, model_id)) AS models,'}
           sum(assistant_message_count) AS llm_messages, sum(step_count) AS steps, ${TOKEN_SUMS}
    FROM daily_stats WHERE ${ON_DAY('day')} AND ${PROJECT}
    ${grouped ? 'GROUP BY ALL ORDER BY cost_usd DESC, computed_cost_usd DESC NULLS LAST, tokens DESC LIMIT $4' : ''}`,
  tools: (grouped: boolean) => `
    SELECT ${grouped ? 'tool_name,' : 'count(DISTINCT tool_name) AS tools,'} count(*) AS calls,
           count(*) FILTER (WHERE status = 'error') AS errors,
           100.0 * count(*) FILTER (WHERE status = 'error') / nullif(count(*), 0) AS error_pct,
           quantile_cont(execution_time_ms, 0.5) AS p50_ms, quantile_cont(execution_time_ms, 0.95) AS p95_ms,
           quantile_cont(execution_time_ms, 0.99) AS p99_ms, sum(execution_time_ms) AS total_ms
    FROM tool_call_facts WHERE ${AT('started_at')} AND ${PROJECT}
    ${grouped ? 'GROUP BY tool_name ORDER BY calls DESC, tool_name LIMIT $4' : ''}`,
  errors: (grouped: boolean) => `
    SELECT ${grouped ? 'error_category, source,' : ''} count(*) AS count, count(DISTINCT session_id) AS sessions,
           strftime(max(occurred_at), '%Y-%m-%dT%H:%M:%S.%gZ') AS last_seen
           ${grouped ? ', arg_max(error_message, occurred_at) AS example' : ''}
    FROM errors WHERE ${AT('occurred_at')} AND ${PROJECT}
    ${grouped ? 'GROUP BY ALL ORDER BY count DESC, error_category LIMIT $4' : ''}`,
};

/** Orders sessions as a tree: each root by its rolled-up cost, its sub-agents right under it. */
function nest(all: JsonRow[], limit: number): JsonRow[] {
  const ids = new Set(all.map((r) => r.session_id));
  const children = new Map<unknown, JsonRow[]>();
  const roots: JsonRow[] = [];
  for (const r of all) {
    const p = r.parent_session_id;
    if (p !== null && ids.has(p)) children.set(p, [...(children.get(p) ?? []), r]);
    else roots.push(r);
  }
  const out: JsonRow[] = [];
  const walk = (r: JsonRow, depth: number) => {
    out.push({ ...r, depth });
    for (const c of children.get(r.session_id) ?? []) walk(c, depth + 1);
  };
  for (const r of roots.slice(0, limit)) walk(r, 0);
  return out;
}

const ORDER_BY_TOTAL =
  'ORDER BY total_cost_usd DESC, total_computed_cost_usd DESC NULLS LAST, started_at DESC';
const ORDER_BY_OWN = 'ORDER BY cost_usd DESC, computed_cost_usd DESC NULLS LAST, started_at DESC';

async function sessionsReport(conn: DuckDBConnection, p: unknown[], o: ReportOptions): Promise<ReportResult> {
  const limit = o.limit ?? 1000;
  const all = await queryRows(
    conn,
    `SELECT ${SESSION_COLS} FROM session_resource_metrics WHERE ${SESSION_WHERE}
     ${o.flat ? ORDER_BY_OWN : ORDER_BY_TOTAL} ${o.flat ? 'LIMIT $4' : ''}`,
    o.flat ? p : p.slice(0, 3),
  );
  const rows = o.flat ? all.map((r) => ({ ...r, depth: 0 })) : nest(all, limit);
  const [totals] = await queryRows(
    conn,
    `SELECT count(*) AS sessions, count(*) FILTER (WHERE parent_session_id IS NOT NULL) AS subagents,
            sum(exchange_count) AS exchanges, sum(assistant_message_count) AS llm_messages,
            sum(tool_call_count) AS tool_calls, sum(tool_error_count) AS tool_errors, sum(error_count) AS errors,
            sum(duration_ms) AS duration_ms, ${TOKEN_SUMS}
     FROM session_resource_metrics WHERE ${SESSION_WHERE}`,
    p.slice(0, 3),
  );
  return { rows, totals: totals ?? {} };
}

export async function runReport(
  conn: DuckDBConnection,
  name: ReportName,
  o: ReportOptions = {},
): Promise<ReportResult> {
  const p = [o.since ?? null, o.until ?? null, o.project ?? null, o.limit ?? 1000];
  if (name === 'sessions') return sessionsReport(conn, p, o);
  const sql =
    name === 'daily' || name === 'weekly' || name === 'monthly' ? periodSql.bind(null, name) : SQL[name];
  const rows = await queryRows(conn, sql(true), p);
  // periods: the newest ones are kept by the limit, shown oldest first
  if (name in PERIOD) rows.reverse();
  const [totals] = await queryRows(conn, sql(false), p.slice(0, 3));
  return { rows, totals: totals ?? {} };
}

/** Sessions in the store (all time, every project): 0 means the store was never filled. */
export async function storedSessionCount(conn: DuckDBConnection): Promise<number> {
  const r = await conn.runAndReadAll('SELECT count(*) FROM sessions');
  return Number(r.getRows()[0]?.[0] ?? 0);
}

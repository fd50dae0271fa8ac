/**
 * The terminal reports (`ocbridge report …`): one SQL per report over the analytics model, with
 * optional `since` (a date or time) and `project` (project ID, or a substring of its worktree path).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type JsonRow, queryRows } from './query.ts';

export const REPORTS = ['sessions', 'daily', 'models', 'tools', 'errors'] as const;
export type ReportName = (typeof REPORTS)[number];

export interface ReportOptions {
  /** Only activity at or after this time (ISO date or timestamp). */
  since?: string;
  /** Project ID, or a substring of the project's worktree / root path. */
  project?: string;
  limit?: number;
}

const PROJECT = `($2::VARCHAR IS NULL OR project_id = $2 OR project_id IN (
  SELECT project_id FROM projects WHERE contains(worktree, $2)))`;

const SQL: Record<ReportName, () => string> = {
  sessions: () => `
    SELECT session_id, title, project_id, CAST(started_at AS VARCHAR) AS started_at, round(duration_ms / 60000.0, 1) AS minutes,
           exchange_count AS exchanges, assistant_message_count AS llm_messages, tool_call_count AS tools,
           tool_error_count AS tool_errors, error_count AS errors,
           input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens AS tokens,
           round(cost_usd, 4) AS cost_usd, round(computed_cost_usd, 4) AS computed_cost_usd,
           subagent_session_count AS subagents, round(total_computed_cost_usd, 4) AS total_computed_cost_usd
    FROM session_resource_metrics
    WHERE ($1::TIMESTAMP IS NULL OR ended_at >= $1::TIMESTAMP) AND ${PROJECT}
    ORDER BY computed_cost_usd DESC NULLS LAST, cost_usd DESC, started_at DESC LIMIT $3`,
  daily: () => `
    SELECT CAST(day AS VARCHAR) AS day, sum(session_count) AS sessions, sum(exchange_count) AS exchanges,
           sum(assistant_message_count) AS llm_messages, sum(tool_call_count) AS tools, sum(error_count) AS errors,
           sum(input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens) AS tokens,
           round(sum(cost_usd), 4) AS cost_usd, round(sum(computed_cost_usd), 4) AS computed_cost_usd
    FROM daily_stats
    WHERE ($1::TIMESTAMP IS NULL OR day >= CAST($1::TIMESTAMP AS DATE)) AND ${PROJECT}
    GROUP BY day ORDER BY day DESC LIMIT $3`,
  models: () => `
    SELECT provider_id, model_id, sum(assistant_message_count) AS llm_messages, sum(step_count) AS steps,
           sum(input_tokens) AS input, sum(output_tokens) AS output, sum(reasoning_tokens) AS reasoning,
           sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write,
           round(sum(cost_usd), 4) AS cost_usd, round(sum(computed_cost_usd), 4) AS computed_cost_usd
    FROM daily_stats
    WHERE ($1::TIMESTAMP IS NULL OR day >= CAST($1::TIMESTAMP AS DATE)) AND ${PROJECT}
    GROUP BY ALL ORDER BY computed_cost_usd DESC NULLS LAST, cost_usd DESC LIMIT $3`,
  tools: () => `
    SELECT tool_name, count(*) AS calls, count(*) FILTER (WHERE status = 'error') AS errors,
           round(100.0 * count(*) FILTER (WHERE status = 'error') / count(*), 1) AS error_pct,
           round(quantile_cont(execution_time_ms, 0.5), 0) AS p50_ms,
           round(quantile_cont(execution_time_ms, 0.95), 0) AS p95_ms,
           round(quantile_cont(execution_time_ms, 0.99), 0) AS p99_ms, sum(execution_time_ms) AS total_ms
    FROM tool_call_facts
    WHERE ($1::TIMESTAMP IS NULL OR started_at >= $1::TIMESTAMP) AND ${PROJECT}
    GROUP BY tool_name ORDER BY calls DESC LIMIT $3`,
  errors: () => `
    SELECT error_category, source, count(*) AS count, count(DISTINCT session_id) AS sessions,
           CAST(max(occurred_at) AS VARCHAR) AS last_seen, any_value(left(error_message, 80)) AS example
    FROM errors
    WHERE ($1::TIMESTAMP IS NULL OR occurred_at >= $1::TIMESTAMP) AND ${PROJECT}
    GROUP BY ALL ORDER BY count DESC LIMIT $3`,
};

export async function runReport(
  conn: DuckDBConnection,
  name: ReportName,
  o: ReportOptions = {},
): Promise<JsonRow[]> {
  return queryRows(conn, SQL[name](), [o.since ?? null, o.project ?? null, o.limit ?? 1000]);
}

/**
 * The SQL behind the usage metrics: all-time totals and histogram buckets, read from the analytics
 * tables (docs/schema.md) on the metrics' own DuckDB connection. Plain aggregates, no writes.
 *
 * Each histogram query returns one row per (labels, bucket index): `idx` = how many boundaries lie
 * below the value, so bucket `idx` counts values in (boundaries[idx-1], boundaries[idx]] (Prometheus `le`).
 */
import { type DuckDBConnection, listValue } from '@duckdb/node-api';
import { GEN_AI_OPERATION_DURATION_BUCKETS, GEN_AI_TOKEN_USAGE_BUCKETS } from '../semconv.ts';

/** The histogram bucket of a value: 0 … bounds.length (a CASE chain: exact at the boundaries, and fast). */
const bucketIdx = (bounds: readonly number[], value: string) =>
  `CASE ${bounds.map((b, i) => `WHEN ${value} <= ${b} THEN ${i}`).join(' ')} ELSE ${bounds.length} END`;

const project = (alias: string) =>
  `coalesce(nullif(${alias}.worktree, ''), ${alias}_id.project_id, 'unknown')`;

export type Row = Record<string, string | number | null>;

export interface UsageAggregates {
  /** Every row also has `session_id`. provider, model, agent, project, input, output, reasoning, cache_read, cache_write, recorded, computed */
  usage: Row[];
  /** finished LLM calls: provider, model, agent, failed, error_type, dur_idx, in_idx, out_idx, n, dur_sum, in_sum, out_sum */
  steps: Row[];
  /** counted tool calls: tool, status, provider, model, error_type, dur_idx, n, dur_sum */
  tools: Row[];
  /** category, source, provider, model, n */
  errors: Row[];
  /** project, kind, n */
  sessions: Row[];
  /** project, agent, status, n */
  exchanges: Row[];
}

async function rows(conn: DuckDBConnection, sql: string, params: unknown[] = []): Promise<Row[]> {
  const r = await conn.runAndReadAll(sql, params as never);
  return r.getRowObjectsJS() as Row[];
}

/** `a_id` joined to projects `a`: the worktree path names the project (else its ID). */
const withProject = (table: string, t: string) =>
  `FROM ${table} ${t}_id LEFT JOIN projects ${t} ON ${t}.project_id = ${t}_id.project_id`;

/**
 * One grouped pass over the LLM calls (steps). A step counts once finished: a step-finish part, or
 * its message completed or failed; the last step of a failed message is the failed call (as in the
 * traces). Tokens follow the conventions: input includes cache read + write, output includes
 * reasoning (except OpenCode < 1.2, whose output already did; see mapping.ts).
 */
const stepsSql = (only: string) => `
  WITH ses AS (
    SELECT session_id,
           coalesce(TRY_CAST(regexp_extract(version, '^(\\d+)\\.(\\d+)', ['maj', 'min']) AS STRUCT(maj INTEGER, min INTEGER)),
                    {'maj': 99, 'min': 0}) AS v
    FROM sessions WHERE ${only.replace('$col', 'session_id')}
  ),
  last_step AS (SELECT message_id, max(step_index) AS last_index FROM steps WHERE ${only.replace('$col', 'session_id')} GROUP BY 1),
  s AS (
    SELECT st.session_id, st.provider_id, st.model_id, st.agent, st.duration_ms, st.token_source,
           coalesce(st.input_tokens, 0) + coalesce(st.cache_read_tokens, 0) + coalesce(st.cache_write_tokens, 0) AS in_tokens,
           coalesce(st.output_tokens, 0) +
             CASE WHEN ses.v.maj < 1 OR (ses.v.maj = 1 AND ses.v.min < 2) THEN 0 ELSE coalesce(st.reasoning_tokens, 0) END AS out_tokens,
           (m.error_name IS NOT NULL AND st.step_index = ls.last_index) AS failed,
           m.error_category
    FROM steps st
    LEFT JOIN (SELECT * FROM message_facts WHERE ${only.replace('$col', 'session_id')}) m ON m.message_id = st.message_id
    LEFT JOIN last_step ls ON ls.message_id = st.message_id
    LEFT JOIN ses ON ses.session_id = st.session_id
    WHERE (st.completed OR m.completed_at IS NOT NULL OR m.error_name IS NOT NULL) AND ${only.replace('$col', 'st.session_id')}
  )
  SELECT session_id, provider_id AS provider, model_id AS model, agent, failed,
         CASE WHEN failed THEN coalesce(error_category, '_OTHER') END AS error_type,
         CASE WHEN duration_ms >= 0 THEN ${bucketIdx(GEN_AI_OPERATION_DURATION_BUCKETS, 'duration_ms / 1000.0')} END AS dur_idx,
         CASE WHEN token_source IS NOT NULL THEN ${bucketIdx(GEN_AI_TOKEN_USAGE_BUCKETS, 'in_tokens')} END AS in_idx,
         CASE WHEN token_source IS NOT NULL THEN ${bucketIdx(GEN_AI_TOKEN_USAGE_BUCKETS, 'out_tokens')} END AS out_idx,
         count(*)::DOUBLE AS n,
         coalesce(sum(duration_ms / 1000.0) FILTER (WHERE duration_ms >= 0), 0)::DOUBLE AS dur_sum,
         coalesce(sum(in_tokens) FILTER (WHERE token_source IS NOT NULL), 0)::DOUBLE AS in_sum,
         coalesce(sum(out_tokens) FILTER (WHERE token_source IS NOT NULL), 0)::DOUBLE AS out_sum
  FROM s GROUP BY ALL`;

/** One grouped pass over tool calls: counted once finished (completed/error, or their message ended). */
const toolsSql = (only: string) => `
  SELECT tc.session_id, tc.tool_name AS tool, tc.status, m.provider_id AS provider, m.model_id AS model,
         CASE WHEN tc.status = 'error' THEN coalesce(tc.error_category, '_OTHER') END AS error_type,
         CASE WHEN tc.status IN ('completed', 'error') AND tc.execution_time_ms >= 0
              THEN ${bucketIdx(GEN_AI_OPERATION_DURATION_BUCKETS, 'tc.execution_time_ms / 1000.0')} END AS dur_idx,
         count(*)::DOUBLE AS n,
         coalesce(sum(tc.execution_time_ms / 1000.0) FILTER (WHERE tc.status IN ('completed', 'error') AND tc.execution_time_ms >= 0), 0)::DOUBLE AS dur_sum
  FROM tool_call_facts tc
  LEFT JOIN (SELECT * FROM message_facts WHERE ${only.replace('$col', 'session_id')}) m ON m.message_id = tc.message_id
  WHERE (tc.status IN ('completed', 'error') OR m.completed_at IS NOT NULL OR m.error_name IS NOT NULL)
    AND ${only.replace('$col', 'tc.session_id')}
  GROUP BY ALL`;

/**
 * All-time aggregates per session: of every session, or only of `sessions` (live refreshes re-read
 * the families a derivation touched, so their cost does not grow with the store).
 */
export async function readUsageAggregates(
  conn: DuckDBConnection,
  now: Date,
  idleMs: number,
  sessions?: readonly string[],
): Promise<UsageAggregates> {
  const cutoff = new Date(now.getTime() - idleMs).toISOString().replace('T', ' ').replace('Z', '');
  const params: unknown[] = sessions ? [listValue([...sessions])] : [];
  const only = sessions ? '$col IN (SELECT unnest($1::VARCHAR[]))' : 'true';
  const on = (col: string) => only.replace('$col', col);
  const usage = await rows(
    conn,
    `SELECT m_id.session_id, coalesce(m_id.provider_id, 'unknown') AS provider, coalesce(m_id.model_id, 'unknown') AS model,
            coalesce(m_id.agent, 'unknown') AS agent, ${project('m')} AS project,
            sum(m_id.input_tokens)::DOUBLE AS input, sum(m_id.output_tokens)::DOUBLE AS output,
            sum(m_id.reasoning_tokens)::DOUBLE AS reasoning, sum(m_id.cache_read_tokens)::DOUBLE AS cache_read,
            sum(m_id.cache_write_tokens)::DOUBLE AS cache_write,
            coalesce(sum(m_id.cost_usd), 0)::DOUBLE AS recorded, coalesce(sum(m_id.computed_cost_usd), 0)::DOUBLE AS computed
     ${withProject('message_facts', 'm')} WHERE m_id.role = 'assistant' AND ${on('m_id.session_id')} GROUP BY ALL`,
    params,
  );
  const steps = await rows(conn, stepsSql(only), params);
  const tools = await rows(conn, toolsSql(only), params);
  const errors = await rows(
    conn,
    `SELECT session_id, coalesce(error_category, 'unknown') AS category, source, coalesce(provider_id, 'unknown') AS provider,
            coalesce(model_id, 'unknown') AS model, count(*)::DOUBLE AS n
     FROM errors WHERE ${on('session_id')} GROUP BY ALL`,
    params,
  );
  const sessionRows = await rows(
    conn,
    `SELECT s_id.session_id, ${project('s')} AS project,
            CASE WHEN s_id.parent_session_id IS NULL THEN 'root' ELSE 'subagent' END AS kind, count(*)::DOUBLE AS n
     ${withProject('sessions', 's')} WHERE ${on('s_id.session_id')} GROUP BY ALL`,
    params,
  );
  const exchanges = await rows(
    conn,
    `SELECT e_id.session_id, ${project('e')} AS project, coalesce(e_id.agent, 'unknown') AS agent, e_id.status, count(*)::DOUBLE AS n
     ${withProject('exchanges', 'e')}
     WHERE (e_id.status <> 'in_progress' OR coalesce(e_id.ended_at, e_id.started_at) < $${params.length + 1}::TIMESTAMP)
       AND ${on('e_id.session_id')}
     GROUP BY ALL`,
    [...params, cutoff],
  );
  return { usage, steps, tools, errors, sessions: sessionRows, exchanges };
}

/** The session families (root and every sub-agent session) of `sessions`: what a derivation rewrote. */
export async function familiesOf(conn: DuckDBConnection, sessions: readonly string[]): Promise<string[]> {
  const r = await rows(
    conn,
    `WITH t AS (SELECT unnest($1::VARCHAR[]) AS session_id),
          roots AS (SELECT root_session_id FROM session_resource_metrics WHERE session_id IN (SELECT session_id FROM t))
     SELECT session_id FROM t
     UNION SELECT session_id FROM session_resource_metrics WHERE root_session_id IN (SELECT root_session_id FROM roots)`,
    [listValue([...sessions])],
  );
  return r.map((x) => String(x.session_id));
}

export interface StoreSelfStats {
  /** unix seconds of the newest ingest commit recorded in the store (checkpoints), or null */
  lastIngestSeconds: number | null;
  spansExported: number;
  spansFailed: number;
}

/** Self-metrics that survive a restart because the store keeps them (checkpoints, export ledger). */
export async function readStoreSelfStats(conn: DuckDBConnection): Promise<StoreSelfStats> {
  const r = await rows(
    conn,
    `SELECT epoch(greatest((SELECT max(ingested_at) FROM source_files), (SELECT max(updated_at) FROM source_state)))::DOUBLE AS last,
            coalesce((SELECT sum(span_count * export_count) FROM export_ledger), 0)::DOUBLE AS exported,
            coalesce((SELECT sum(span_count * greatest(attempts - export_count, 0)) FROM export_ledger), 0)::DOUBLE AS failed`,
  );
  const row = r[0] ?? {};
  return {
    lastIngestSeconds: row.last == null ? null : Number(row.last),
    spansExported: Number(row.exported ?? 0),
    spansFailed: Number(row.failed ?? 0),
  };
}

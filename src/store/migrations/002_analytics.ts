import { MODEL_PRICE_KEY_DDL, MODEL_PRICING_DDL } from '../../domain/pricing/sql.ts';
import type { Migration } from '../migrate.ts';

const TOKENS = `input_tokens BIGINT, output_tokens BIGINT, reasoning_tokens BIGINT,
  cache_read_tokens BIGINT, cache_write_tokens BIGINT`;
const SUBAGENT = `subagent_session_count INTEGER, subagent_exchange_count INTEGER,
  subagent_input_tokens BIGINT, subagent_output_tokens BIGINT, subagent_reasoning_tokens BIGINT,
  subagent_cache_read_tokens BIGINT, subagent_cache_write_tokens BIGINT,
  subagent_cost_usd DOUBLE, subagent_computed_cost_usd DOUBLE`;

/**
 * The analytics model (issue 3): pricing tables and every table derived from the raw tables by
 * src/store/derive/. Derived tables hold no information of their own: `deriveAll` rebuilds them.
 * They have no keys (rebuilt by session, sorted for the queries instead). See docs/schema.md.
 */
export const m002: Migration = {
  version: 2,
  name: 'analytics',
  up: [
    MODEL_PRICING_DDL,
    MODEL_PRICE_KEY_DDL,
    `CREATE TABLE model_pricing_alias (provider_id VARCHAR NOT NULL, model_id VARCHAR NOT NULL,
      alias VARCHAR NOT NULL, PRIMARY KEY (provider_id, model_id, alias))`,
    `CREATE TABLE message_facts (
      message_id VARCHAR, session_id VARCHAR, project_id VARCHAR, exchange_id VARCHAR, role VARCHAR,
      agent VARCHAR, provider_id VARCHAR, model_id VARCHAR, created_at TIMESTAMP, completed_at TIMESTAMP,
      duration_ms BIGINT, ${TOKENS}, cost_usd DOUBLE, computed_cost_usd DOUBLE, price_match VARCHAR,
      step_count INTEGER, tool_call_count INTEGER, finish VARCHAR, is_summary BOOLEAN,
      error_name VARCHAR, error_status_code INTEGER, error_message VARCHAR, error_category VARCHAR,
      root_path VARCHAR, reverted BOOLEAN)`,
    `CREATE TABLE steps (
      step_id VARCHAR, session_id VARCHAR, project_id VARCHAR, exchange_id VARCHAR, message_id VARCHAR,
      step_index INTEGER, start_part_id VARCHAR, finish_part_id VARCHAR, agent VARCHAR, provider_id VARCHAR,
      model_id VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, duration_ms BIGINT, finish_reason VARCHAR,
      ${TOKENS}, context_tokens BIGINT, token_source VARCHAR, cost_usd DOUBLE, computed_cost_usd DOUBLE,
      price_match VARCHAR, tier_min_context_tokens INTEGER, tool_call_count INTEGER,
      snapshot_start VARCHAR, snapshot_end VARCHAR, patch_hash VARCHAR, patch_file_count INTEGER,
      completed BOOLEAN)`,
    `CREATE TABLE tool_call_facts (
      part_id VARCHAR, session_id VARCHAR, project_id VARCHAR, exchange_id VARCHAR, message_id VARCHAR,
      step_id VARCHAR, call_id VARCHAR, tool_name VARCHAR, status VARCHAR, title VARCHAR,
      started_at TIMESTAMP, ended_at TIMESTAMP, execution_time_ms BIGINT, error_message VARCHAR,
      error_category VARCHAR, child_session_id VARCHAR, file_path VARCHAR, output_length BIGINT,
      compacted_at TIMESTAMP)`,
    `CREATE TABLE exchanges (
      exchange_id VARCHAR, session_id VARCHAR, project_id VARCHAR, root_path VARCHAR, exchange_index INTEGER,
      user_message_id VARCHAR, kind VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, duration_ms BIGINT,
      assistant_message_count INTEGER, step_count INTEGER, tool_call_count INTEGER, tool_error_count INTEGER,
      ${TOKENS}, cost_usd DOUBLE, computed_cost_usd DOUBLE, error_count INTEGER, error_category VARCHAR,
      agent VARCHAR, provider_id VARCHAR, model_id VARCHAR, status VARCHAR, reverted BOOLEAN,
      parent_exchange_id VARCHAR, parent_part_id VARCHAR, nesting_depth INTEGER, ${SUBAGENT})`,
    `CREATE TABLE exchange_traces (
      exchange_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR, kind VARCHAR, name VARCHAR,
      started_at TIMESTAMP, ended_at TIMESTAMP, session_id VARCHAR, message_id VARCHAR, part_id VARCHAR,
      depth INTEGER, span_index INTEGER, clamped BOOLEAN, attributes JSON)`,
    `CREATE TABLE file_operations (
      session_id VARCHAR, project_id VARCHAR, exchange_id VARCHAR, message_id VARCHAR, part_id VARCHAR,
      step_id VARCHAR, source VARCHAR, tool_name VARCHAR, operation VARCHAR, file_path VARCHAR,
      occurred_at TIMESTAMP, status VARCHAR, patch_hash VARCHAR)`,
    `CREATE TABLE reasoning_blocks (
      part_id VARCHAR, session_id VARCHAR, exchange_id VARCHAR, message_id VARCHAR, step_id VARCHAR,
      started_at TIMESTAMP, ended_at TIMESTAMP, duration_ms BIGINT, length BIGINT)`,
    `CREATE TABLE text_blocks (
      part_id VARCHAR, session_id VARCHAR, exchange_id VARCHAR, message_id VARCHAR, step_id VARCHAR,
      role VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, duration_ms BIGINT, length BIGINT,
      synthetic BOOLEAN, ignored BOOLEAN)`,
    `CREATE TABLE retries (
      part_id VARCHAR, session_id VARCHAR, project_id VARCHAR, exchange_id VARCHAR, message_id VARCHAR,
      step_id VARCHAR, attempt INTEGER, created_at TIMESTAMP, provider_id VARCHAR, model_id VARCHAR,
      error_name VARCHAR, status_code INTEGER, error_message VARCHAR, error_category VARCHAR,
      is_retryable BOOLEAN)`,
    `CREATE TABLE compactions (
      compaction_id VARCHAR, session_id VARCHAR, exchange_id VARCHAR, message_id VARCHAR, part_id VARCHAR,
      created_at TIMESTAMP, ended_at TIMESTAMP, duration_ms BIGINT, auto BOOLEAN, overflow BOOLEAN,
      summary_message_id VARCHAR, context_tokens_before BIGINT, ${TOKENS}, cost_usd DOUBLE,
      computed_cost_usd DOUBLE)`,
    `CREATE TABLE session_resource_metrics (
      session_id VARCHAR, project_id VARCHAR, worktree VARCHAR, root_path VARCHAR, parent_session_id VARCHAR,
      root_session_id VARCHAR, title VARCHAR, agent VARCHAR, version VARCHAR, started_at TIMESTAMP,
      ended_at TIMESTAMP, duration_ms BIGINT, message_count INTEGER, user_message_count INTEGER,
      assistant_message_count INTEGER, exchange_count INTEGER, step_count INTEGER, tool_call_count INTEGER,
      tool_error_count INTEGER, total_tool_time_ms BIGINT, avg_tool_time_ms DOUBLE, error_count INTEGER,
      retry_count INTEGER, compaction_count INTEGER, ${TOKENS}, cost_usd DOUBLE, computed_cost_usd DOUBLE,
      ${SUBAGENT}, total_cost_usd DOUBLE, total_computed_cost_usd DOUBLE,
      diff_files BIGINT, diff_additions BIGINT, diff_deletions BIGINT, reverted_message_count INTEGER)`,
    `CREATE TABLE daily_stats (
      day DATE, project_id VARCHAR, provider_id VARCHAR, model_id VARCHAR, agent VARCHAR,
      session_count INTEGER, exchange_count INTEGER, assistant_message_count INTEGER, step_count INTEGER,
      tool_call_count INTEGER, tool_error_count INTEGER, error_count INTEGER, ${TOKENS},
      cost_usd DOUBLE, computed_cost_usd DOUBLE)`,
    `CREATE VIEW errors AS
      SELECT 'message' AS source, message_id AS error_id, session_id, project_id, exchange_id, message_id,
             NULL::VARCHAR AS part_id, NULL::VARCHAR AS tool_name, provider_id, model_id, agent,
             coalesce(completed_at, created_at) AS occurred_at, error_name, error_status_code AS status_code,
             error_message, error_category
      FROM message_facts WHERE error_category IS NOT NULL
      UNION ALL
      SELECT 'tool', t.part_id, t.session_id, t.project_id, t.exchange_id, t.message_id, t.part_id, t.tool_name,
             NULL, NULL, NULL, coalesce(t.ended_at, t.started_at), NULL, NULL, t.error_message, t.error_category
      FROM tool_call_facts t WHERE t.error_category IS NOT NULL
      UNION ALL
      SELECT 'retry', part_id, session_id, project_id, exchange_id, message_id, part_id, NULL, provider_id,
             model_id, NULL, created_at, error_name, status_code, error_message, error_category
      FROM retries`,
    `CREATE VIEW session_traces AS
      SELECT x.session_id, 'session:' || x.session_id AS span_id, NULL::VARCHAR AS parent_span_id,
             'session' AS kind, coalesce(s.title, x.session_id) AS name, min(x.started_at) AS started_at,
             max(x.ended_at) AS ended_at, NULL::VARCHAR AS exchange_id, NULL::VARCHAR AS message_id,
             NULL::VARCHAR AS part_id, 0 AS depth, false AS clamped,
             json_object('project_id', any_value(s.project_id), 'parent_session_id', any_value(s.parent_session_id)) AS attributes
      FROM exchanges x LEFT JOIN sessions s USING (session_id)
      GROUP BY x.session_id, s.title
      UNION ALL
      SELECT e.session_id, t.span_id, coalesce(t.parent_span_id, 'session:' || e.session_id), t.kind, t.name,
             t.started_at, t.ended_at, t.exchange_id, t.message_id, t.part_id, t.depth + 1, t.clamped, t.attributes
      FROM exchange_traces t JOIN exchanges e USING (exchange_id)`,
  ],
  down: [
    'DROP VIEW session_traces',
    'DROP VIEW errors',
    'DROP TABLE daily_stats',
    'DROP TABLE session_resource_metrics',
    'DROP TABLE compactions',
    'DROP TABLE retries',
    'DROP TABLE text_blocks',
    'DROP TABLE reasoning_blocks',
    'DROP TABLE file_operations',
    'DROP TABLE exchange_traces',
    'DROP TABLE exchanges',
    'DROP TABLE tool_call_facts',
    'DROP TABLE steps',
    'DROP TABLE message_facts',
    'DROP TABLE model_pricing_alias',
    'DROP TABLE model_price_key',
    'DROP TABLE model_pricing',
  ],
};

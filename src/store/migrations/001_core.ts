import type { Migration } from '../migrate.ts';

/** Raw, lossless tables of what OpenCode wrote, plus ingest bookkeeping. See docs/schema.md. */
export const m001: Migration = {
  version: 1,
  name: 'core',
  up: [
    `CREATE TABLE projects (
      project_id VARCHAR PRIMARY KEY, worktree VARCHAR, vcs VARCHAR, name VARCHAR,
      created_at TIMESTAMP, updated_at TIMESTAMP, initialized_at TIMESTAMP,
      source VARCHAR NOT NULL, source_path VARCHAR NOT NULL, raw JSON)`,
    `CREATE TABLE sessions (
      session_id VARCHAR PRIMARY KEY, project_id VARCHAR, parent_session_id VARCHAR, title VARCHAR, slug VARCHAR,
      directory VARCHAR, version VARCHAR, agent VARCHAR, share_url VARCHAR,
      summary_additions BIGINT, summary_deletions BIGINT, summary_files BIGINT, revert_message_id VARCHAR,
      created_at TIMESTAMP, updated_at TIMESTAMP, compacting_at TIMESTAMP, archived_at TIMESTAMP,
      source VARCHAR NOT NULL, source_path VARCHAR NOT NULL, raw JSON)`,
    `CREATE TABLE messages (
      message_id VARCHAR PRIMARY KEY, session_id VARCHAR NOT NULL, role VARCHAR NOT NULL, parent_message_id VARCHAR,
      agent VARCHAR, mode VARCHAR, provider_id VARCHAR, model_id VARCHAR,
      created_at TIMESTAMP, completed_at TIMESTAMP, finish VARCHAR, is_summary BOOLEAN,
      cost_usd DOUBLE, input_tokens BIGINT, output_tokens BIGINT, reasoning_tokens BIGINT,
      cache_read_tokens BIGINT, cache_write_tokens BIGINT,
      recorded_input_tokens BIGINT, recorded_output_tokens BIGINT, recorded_reasoning_tokens BIGINT,
      recorded_cache_read_tokens BIGINT, recorded_cache_write_tokens BIGINT, recorded_total_tokens BIGINT,
      token_source VARCHAR, step_count INTEGER,
      error_name VARCHAR, error_data JSON, error_message VARCHAR, root_path VARCHAR, cwd VARCHAR,
      source VARCHAR NOT NULL, source_path VARCHAR NOT NULL, raw JSON)`,
    `CREATE TABLE parts (
      part_id VARCHAR PRIMARY KEY, message_id VARCHAR NOT NULL, session_id VARCHAR, part_type VARCHAR NOT NULL,
      time_start TIMESTAMP, time_end TIMESTAMP, text_length BIGINT,
      step_reason VARCHAR, step_cost DOUBLE, step_input_tokens BIGINT, step_output_tokens BIGINT,
      step_reasoning_tokens BIGINT, step_cache_read_tokens BIGINT, step_cache_write_tokens BIGINT, snapshot VARCHAR,
      source VARCHAR NOT NULL, source_path VARCHAR NOT NULL, raw JSON)`,
    `CREATE TABLE tool_calls (
      part_id VARCHAR PRIMARY KEY, message_id VARCHAR NOT NULL, session_id VARCHAR, call_id VARCHAR, tool_name VARCHAR,
      status VARCHAR, title VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, execution_time_ms BIGINT,
      compacted_at TIMESTAMP, error_message VARCHAR, child_session_id VARCHAR, input JSON, output_length BIGINT,
      metadata JSON)`,
    `CREATE TABLE todos (
      session_id VARCHAR NOT NULL, position INTEGER NOT NULL, todo_id VARCHAR, content VARCHAR, status VARCHAR,
      priority VARCHAR, source VARCHAR NOT NULL, source_path VARCHAR NOT NULL, raw JSON,
      PRIMARY KEY (session_id, position))`,
    `CREATE TABLE session_diffs (
      session_id VARCHAR PRIMARY KEY, files INTEGER, additions BIGINT, deletions BIGINT,
      source VARCHAR NOT NULL, source_path VARCHAR NOT NULL, raw JSON)`,
    `CREATE TABLE ingest_errors (
      source_path VARCHAR PRIMARY KEY, reason VARCHAR NOT NULL, severity VARCHAR NOT NULL,
      first_seen_at TIMESTAMP NOT NULL, last_seen_at TIMESTAMP NOT NULL, attempts INTEGER NOT NULL)`,
    `CREATE TABLE source_files (
      path VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, entity_id VARCHAR NOT NULL, size BIGINT NOT NULL,
      mtime_us BIGINT NOT NULL, status VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL)`,
    `CREATE TABLE source_state (
      source_key VARCHAR PRIMARY KEY, high_water_ms BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)`,
    // sessions whose derived data must be recomputed; filled in the same transaction as their rows,
    // emptied by the derivation, so a crash between the two only means deriving again
    // append-only (no key), so a writer adding a session never conflicts with the derivation
    // removing older entries on another connection
    'CREATE SEQUENCE derive_queue_seq',
    "CREATE TABLE derive_queue (seq BIGINT NOT NULL DEFAULT nextval('derive_queue_seq'), session_id VARCHAR NOT NULL)",
    `CREATE TABLE source_shadows (
      entity VARCHAR NOT NULL, entity_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_path VARCHAR NOT NULL,
      winner_source VARCHAR NOT NULL, PRIMARY KEY (entity, entity_id, source_path))`,
  ],
  down: [
    'DROP TABLE source_shadows',
    'DROP TABLE derive_queue',
    'DROP SEQUENCE derive_queue_seq',
    'DROP TABLE source_state',
    'DROP TABLE source_files',
    'DROP TABLE ingest_errors',
    'DROP TABLE session_diffs',
    'DROP TABLE todos',
    'DROP TABLE tool_calls',
    'DROP TABLE parts',
    'DROP TABLE messages',
    'DROP TABLE sessions',
    'DROP TABLE projects',
  ],
};

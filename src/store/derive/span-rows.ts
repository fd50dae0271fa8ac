/**
 * The export's span rows, derived (issue 5): each exchange_traces row joined with the attributes the
 * OpenTelemetry mapping reads from the raw tables (messages, parts, tool_calls, sessions, retries,
 * compactions), its trace and span IDs hashed, packed as one JSON array in `COLUMNS` order, and an
 * exchange's rows joined by newlines into one string: `exchange_span_rows.packed`.
 *
 * Derived with the rest of the model (same scope: whole session families; a transaction of its own
 * right after the model's, see derive/index.ts), so an export reads one string per exchange instead
 * of joining the raw tables: those joins are most of what an export's reads cost, so they are paid
 * once per change during the derivation. The same query runs
 * in the export when a pending exchange has no row of the current `SPAN_ROWS_FORMAT` (a store derived
 * by an older version), so the export never depends on it. The rows are OpenCode's values under
 * neutral names (TraceRow); OTel names are src/otel's.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { spanIdSql, spanKeySql, traceIdSql } from '../../domain/trace-ids.ts';
import { clearSql, inScope, type Scope } from './scope.ts';

/** Bump when COLUMNS or their expressions change: rows of another format are derived again. */
export const SPAN_ROWS_FORMAT = 1;

/** One exchange_traces row with its joined raw attributes. Numbers are JS numbers, times epoch µs. */
export interface TraceRow {
  exchangeId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  kind: string;
  name: string | null;
  startUs: number | null;
  endUs: number | null;
  sessionId: string | null;
  messageId: string | null;
  partId: string | null;
  // exchange (root rows only)
  exStatus: string | null;
  exAgent: string | null;
  exProviderId: string | null;
  exModelId: string | null;
  // message (NULL on rows whose mapping does not use it: see COLUMNS)
  mAgent: string | null;
  mProviderId: string | null;
  mModelId: string | null;
  mFinish: string | null;
  mCost: number | null;
  mIn: number | null;
  mOut: number | null;
  mReasoning: number | null;
  mCacheRead: number | null;
  mCacheWrite: number | null;
  mErrorName: string | null;
  mErrorStatus: number | null;
  mErrorMessage: string | null;
  mRootPath: string | null;
  // the step-finish part of an llm_call row (its own part, or the one paired with its step-start)
  partType: string | null;
  stepFound: boolean | null;
  stepReason: string | null;
  stepCost: number | null;
  stepIn: number | null;
  stepOut: number | null;
  stepReasoning: number | null;
  stepCacheRead: number | null;
  stepCacheWrite: number | null;
  // tool call
  toolName: string | null;
  callId: string | null;
  toolStatus: string | null;
  toolError: string | null;
  // session
  sProjectId: string | null;
  sParentSessionId: string | null;
  sAgent: string | null;
  sVersion: string | null;
  sDirectory: string | null;
  // sub-agent name (first assistant agent of the child session, else the task's subagent_type)
  subAgent: string | null;
  // retry / compaction parts
  retryAttempt: number | null;
  retryErrorName: string | null;
  retryErrorStatus: number | null;
  retryErrorMessage: string | null;
  /** the taxonomy category the derivation gave the retry (from its message and response body) */
  retryErrorCategory: string | null;
  compactionAuto: boolean | null;
  compactionOverflow: boolean | null;
}

// A column is read only for the rows whose mapping uses it (mapping.ts), else NULL: every row is
// packed into a JSON string, parsed in JS, and the message and session columns repeated on every tool
// row were ~25% of those bytes. ROOT: rows that may be the exchange's root span (mapExchange: the
// exchange row, else a row without a parent span).
const ROOT = "(t.kind = 'exchange' OR tp.sid IS NULL)";
const LLM = "t.kind = 'llm_call'";
/** the message's own usage: an LLM call row without a step-finish part */
const MSG_USAGE = `${LLM} AND sf.part_id IS NULL`;
const when = (cond: string, expr: string) => `CASE WHEN ${cond} THEN ${expr} END`;

const COLUMNS: ReadonlyArray<[keyof TraceRow, string]> = [
  ['exchangeId', 't.exchange_id'],
  ['traceId', 'q.trace_id'],
  ['spanId', 't.sid'],
  ['parentSpanId', 'tp.sid'],
  ['kind', 't.kind'],
  ['name', 't.name'],
  ['startUs', 'epoch_us(t.started_at)'],
  ['endUs', 'epoch_us(t.ended_at)'],
  ['sessionId', 't.session_id'],
  ['messageId', 't.message_id'],
  ['partId', 't.part_id'],
  ['exStatus', 'e.status'],
  ['exAgent', 'e.agent'],
  ['exProviderId', 'e.provider_id'],
  ['exModelId', 'e.model_id'],
  ['mAgent', when(`${LLM} OR ${ROOT}`, 'm.agent')],
  ['mProviderId', when(`${LLM} OR ${ROOT}`, 'm.provider_id')],
  ['mModelId', when(`${LLM} OR ${ROOT}`, 'm.model_id')],
  ['mFinish', when(MSG_USAGE, 'm.finish')],
  ['mCost', when(MSG_USAGE, 'm.cost_usd::DOUBLE')],
  ['mIn', when(MSG_USAGE, 'm.input_tokens::DOUBLE')],
  ['mOut', when(MSG_USAGE, 'm.output_tokens::DOUBLE')],
  ['mReasoning', when(MSG_USAGE, 'm.reasoning_tokens::DOUBLE')],
  ['mCacheRead', when(MSG_USAGE, 'm.cache_read_tokens::DOUBLE')],
  ['mCacheWrite', when(MSG_USAGE, 'm.cache_write_tokens::DOUBLE')],
  ['mErrorName', when(LLM, 'm.error_name')],
  ['mErrorStatus', when(LLM, "TRY_CAST(m.error_data->>'statusCode' AS DOUBLE)")],
  [
    'mErrorMessage',
    when(
      `${LLM} AND m.error_name IS NOT NULL`,
      "concat_ws(chr(10), m.error_message, m.error_data->>'responseBody')",
    ),
  ],
  // the project path falls back to a message's root path only where the session has no directory
  ['mRootPath', when('s.directory IS NULL', 'm.root_path')],
  ['partType', 'pt.part_type'],
  ['stepFound', 'sf.part_id IS NOT NULL'],
  ['stepReason', 'sf.step_reason'],
  ['stepCost', 'sf.step_cost::DOUBLE'],
  ['stepIn', 'sf.step_input_tokens::DOUBLE'],
  ['stepOut', 'sf.step_output_tokens::DOUBLE'],
  ['stepReasoning', 'sf.step_reasoning_tokens::DOUBLE'],
  ['stepCacheRead', 'sf.step_cache_read_tokens::DOUBLE'],
  ['stepCacheWrite', 'sf.step_cache_write_tokens::DOUBLE'],
  ['toolName', 'tc.tool_name'],
  ['callId', 'tc.call_id'],
  ['toolStatus', 'tc.status'],
  ['toolError', 'tc.error_message'],
  ['sProjectId', when(ROOT, 's.project_id')],
  ['sParentSessionId', when("t.kind = 'subagent'", 's.parent_session_id')],
  ['sAgent', when(`${ROOT} OR t.kind = 'subagent'`, 's.agent')],
  ['sVersion', when(`${LLM} OR ${ROOT}`, 's.version')],
  ['sDirectory', when(ROOT, 's.directory')],
  ['subAgent', "CASE WHEN t.kind = 'subagent' THEN coalesce(sa.agent, ptc.subagent_type) END"],
  ['retryAttempt', 'rr.attempt::DOUBLE'],
  ['retryErrorName', 'rr.error_name'],
  ['retryErrorStatus', 'rr.status_code::DOUBLE'],
  ['retryErrorMessage', 'rr.error_message'],
  ['retryErrorCategory', 'rr.error_category'],
  ['compactionAuto', 'cp.auto'],
  ['compactionOverflow', 'cp.overflow'],
];

/**
 * The span rows of the exchanges named by `sel` (a query giving `exchange_id, seed`; the seed as
 * computed by the export ledger: the root row's message ID, else the exchange ID), with their
 * attributes, one row per exchange_traces row. Steps are paired by position inside their message: the
 * k-th `step-start` (ordered by part ID, as OpenCode orders parts) with the k-th `step-finish`.
 */
function spanRowsSql(sel: string): string {
  return `
WITH q AS (SELECT exchange_id, seed, ${traceIdSql('seed')} AS trace_id FROM (${sel})),
t AS (
  -- only the tree columns: x.* would carry every span's attributes JSON through each join
  SELECT x.exchange_id, x.span_id, x.parent_span_id, x.kind, x.name, x.started_at, x.ended_at,
         x.session_id, x.message_id, x.part_id,
         -- the OTel span ID, hashed once per row (a child reads its parent's through the tp join)
         ${spanIdSql('q0.seed', spanKeySql('x'))} AS sid
  FROM exchange_traces x
  JOIN q AS q0 ON q0.exchange_id = x.exchange_id
),
step_parts AS (
  SELECT part_id, message_id, part_type,
         row_number() OVER (PARTITION BY message_id, part_type ORDER BY part_id) AS k
  FROM parts
  WHERE part_type IN ('step-start', 'step-finish')
    AND message_id IN (SELECT message_id FROM t WHERE kind = 'llm_call')
),
step_pair AS (
  SELECT s.part_id AS start_id, f.part_id AS finish_id
  FROM step_parts s JOIN step_parts f ON f.message_id = s.message_id AND f.k = s.k
  WHERE s.part_type = 'step-start' AND f.part_type = 'step-finish'
),
-- the raw tables narrowed to this batch's rows and to the columns used: joining whole tables would
-- build hash tables over every part (with its raw JSON) for each batch, which ran out of memory at
-- full scale under the store's default 384 MB limit
m AS (
  SELECT message_id, role, agent, provider_id, model_id, finish, cost_usd, input_tokens, output_tokens,
         reasoning_tokens, cache_read_tokens, cache_write_tokens, error_name, error_data, error_message,
         completed_at, root_path
  FROM messages WHERE message_id IN (SELECT message_id FROM t)
),
pt AS (SELECT part_id, part_type FROM parts WHERE part_id IN (SELECT part_id FROM t)),
-- retries and compactions from their focused tables (typed), never from parts.raw: reading the raw
-- JSON column scans every part's text (7 s per batch at full scale)
rr AS (
  SELECT part_id, attempt, error_name, status_code, error_message, error_category
  FROM retries WHERE part_id IN (SELECT part_id FROM t)
),
cp AS (SELECT part_id, auto, overflow FROM compactions WHERE part_id IN (SELECT part_id FROM t)),
sf AS (
  SELECT part_id, step_reason, step_cost, step_input_tokens, step_output_tokens, step_reasoning_tokens,
         step_cache_read_tokens, step_cache_write_tokens
  FROM parts
  -- one IN over a union: an OR of two INs scanned every step-finish part of the store per read
  WHERE part_type = 'step-finish'
    AND part_id IN (SELECT part_id FROM t WHERE kind = 'llm_call' UNION ALL SELECT finish_id FROM step_pair)
),
tc AS (
  SELECT part_id, tool_name, call_id, status, error_message
  FROM tool_calls WHERE part_id IN (SELECT part_id FROM t)
),
sub_agent AS (
  SELECT session_id, arg_min(agent, (created_at, message_id)) AS agent FROM messages
  WHERE role = 'assistant' AND session_id IN (SELECT session_id FROM t WHERE kind = 'subagent')
  GROUP BY session_id
),
-- the task tool calls that started a sub-agent: only their input JSON is read (reading every tool
-- call's input was the costliest scan of the query)
ptc AS (
  SELECT part_id, input->>'subagent_type' AS subagent_type
  FROM tool_calls
  WHERE tool_name = 'task' AND part_id IN (
    SELECT tp.part_id FROM t JOIN t AS tp ON tp.exchange_id = t.exchange_id AND tp.span_id = t.parent_span_id
    WHERE t.kind = 'subagent'
      -- only where the child session has no assistant agent (the subagent_type is the fallback)
      AND NOT EXISTS (SELECT 1 FROM sub_agent sa WHERE sa.session_id = t.session_id AND sa.agent IS NOT NULL))
)
-- one string per exchange: its rows' JSON arrays (COLUMNS order) joined by newlines, in span order
-- (start, none first, then span ID: the order the mapping reads them in, as unpackRows sorts them),
-- so that the same store always derives the same string
SELECT t.exchange_id, count(*)::INTEGER AS span_rows,
  string_agg(json_array(
  ${COLUMNS.map(([, e]) => e).join(',\n  ')})::VARCHAR, chr(10)
  ORDER BY t.started_at NULLS FIRST, t.sid) AS packed
FROM t
JOIN q ON q.exchange_id = t.exchange_id
LEFT JOIN t AS tp ON tp.exchange_id = t.exchange_id AND tp.span_id = t.parent_span_id
LEFT JOIN exchanges e ON e.exchange_id = CASE WHEN t.kind = 'exchange' THEN t.exchange_id END
LEFT JOIN m ON m.message_id = t.message_id
LEFT JOIN pt ON pt.part_id = t.part_id
LEFT JOIN rr ON rr.part_id = t.part_id
LEFT JOIN cp ON cp.part_id = t.part_id
LEFT JOIN step_pair sp ON sp.start_id = t.part_id
LEFT JOIN sf ON sf.part_id = CASE WHEN t.kind <> 'llm_call' THEN NULL
  WHEN pt.part_type = 'step-finish' THEN pt.part_id ELSE sp.finish_id END
LEFT JOIN tc ON tc.part_id = t.part_id
LEFT JOIN ptc ON ptc.part_id = CASE WHEN t.kind = 'subagent' THEN tp.part_id END
LEFT JOIN sessions s ON s.session_id = t.session_id
LEFT JOIN sub_agent sa ON sa.session_id = t.session_id
GROUP BY t.exchange_id`;
}
// Join conditions are plain equalities (kind tests inside CASE): a `kind = …` term in an ON clause
// turns DuckDB's hash join into a blockwise nested loop, far slower per batch.

/** The TraceRow keys in packed-row order. */
export const PACKED_KEYS: readonly (keyof TraceRow)[] = COLUMNS.map(([k]) => k);

/**
 * Per exchange of the exchange_traces rows matching `where`: `seed`, what its trace and span IDs are
 * hashed from (the root row's message ID, else the exchange ID); `span_count`, the spans its trace
 * has (retry and compaction rows become events of a span, src/otel/mapping.ts); `span_rows`, its rows.
 * The one place these rules live: the export ledger (src/otel/ledger.ts) and the span rows use both.
 */
export function exchangeTraceSummarySql(where = 'TRUE'): string {
  return `SELECT exchange_id,
       coalesce(any_value(message_id) FILTER (WHERE kind = 'exchange'), exchange_id) AS seed,
       count(*) FILTER (WHERE kind NOT IN ('retry', 'compaction')) AS span_count,
       count(*) AS span_rows
FROM exchange_traces WHERE ${where} GROUP BY exchange_id`;
}

/** Span rows per INSERT: all of a large store's at once run out of DuckDB's memory limit. */
const CHUNK_ROWS = 32_768;

/**
 * Fills `exchange_span_rows(exchange_id, session_id, span_rows, format, packed)` for the exchanges in
 * `scope` (after the traces stage), ~`CHUNK_ROWS` span rows per statement. `session_id` is the
 * exchange's own session (the scope's key).
 */
export async function deriveSpanRows(conn: DuckDBConnection, scope: Scope): Promise<void> {
  await conn.run(clearSql(scope, 'exchange_span_rows'));
  await conn.run(`CREATE OR REPLACE TEMP TABLE d_span_sel AS
    SELECT exchange_id, seed,
           (sum(span_rows) OVER (ORDER BY exchange_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - 1) // ${CHUNK_ROWS} AS chunk
    FROM (${exchangeTraceSummarySql(inScope(scope, 'session_id'))})`);
  const r = await conn.runAndReadAll('SELECT coalesce(max(chunk), -1)::INTEGER FROM d_span_sel');
  const chunks = Number(r.getRows()[0]?.[0] ?? -1) + 1;
  for (let i = 0; i < chunks; i++)
    await conn.run(
      `INSERT INTO exchange_span_rows
      SELECT r.exchange_id, e.session_id, r.span_rows, ${SPAN_ROWS_FORMAT}, r.packed
      FROM (${spanRowsSql(`SELECT exchange_id, seed FROM d_span_sel WHERE chunk = ${i}`)}) r
      JOIN exchanges e USING (exchange_id)`,
    );
}

/**
 * How many exchanges of `table` (a table with an `exchange_id` column) have no span row of the
 * current format (a store derived by an older version).
 */
export function missingSpanRowsSql(table = 'exchanges'): string {
  return `SELECT count(*) FROM ${table} e WHERE NOT EXISTS (
  SELECT 1 FROM exchange_span_rows r WHERE r.exchange_id = e.exchange_id AND r.format = ${SPAN_ROWS_FORMAT})`;
}

/**
 * The export's read: `(b, packed)` per exchange of the pending batches `$1`…`$2` (`_otel_pending`,
 * src/otel/ledger.ts), in export order. `stored`: from `exchange_span_rows`; else computed from the
 * raw tables by the derivation's query.
 */
export function pendingSpanRowsSql(stored: boolean): string {
  const rows = stored
    ? `SELECT exchange_id, packed FROM exchange_span_rows WHERE format = ${SPAN_ROWS_FORMAT}`
    : spanRowsSql('SELECT exchange_id, seed FROM _otel_pending WHERE batch_no BETWEEN $1 AND $2');
  return `SELECT q.batch_no::INTEGER AS b, r.packed
FROM _otel_pending q JOIN (${rows}) r ON r.exchange_id = q.exchange_id
WHERE q.batch_no BETWEEN $1 AND $2
ORDER BY q.seq`;
}

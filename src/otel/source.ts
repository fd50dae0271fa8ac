/**
 * Reading what to export from DuckDB.
 *
 * The TREE (ids, parents, kinds, times) comes from `exchange_traces` (issue 3); every ATTRIBUTE comes
 * from the raw tables (messages, parts, tool_calls, sessions) joined by message_id/part_id/session_id,
 * so the mapping does not depend on the keys inside `exchange_traces.attributes`. IDs are hashed here,
 * in DuckDB (see ids.ts). One batch is a set of whole exchanges (`_otel_pending.batch_no`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { spanIdSql, spanKeySql, traceIdSql } from './ids.ts';

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
 * The spans of the pending exchanges (`_otel_pending`) of a range of batches, with their batch and
 * order: a range, because joining per batch re-scanned parts, tool_calls and messages for every
 * request. Steps are paired by position inside their message: the k-th
 * `step-start` (ordered by part ID, as OpenCode orders parts) with the k-th `step-finish`.
 */
export const PENDING_SPANS_SQL = `
WITH t AS (
  -- only the tree columns: x.* would carry every span's attributes JSON through each join
  SELECT x.exchange_id, x.span_id, x.parent_span_id, x.kind, x.name, x.started_at, x.ended_at,
         x.session_id, x.message_id, x.part_id,
         -- the OTel span ID, hashed once per row (a child reads its parent's through the tp join)
         ${spanIdSql('q0.seed', spanKeySql('x'))} AS sid
  FROM exchange_traces x
  JOIN _otel_pending q0 ON q0.exchange_id = x.exchange_id AND q0.batch_no BETWEEN $1 AND $2
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
  SELECT session_id, arg_min(agent, created_at) AS agent FROM messages
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
SELECT ${COLUMNS.map(([k, e]) => `${e} AS "${k}"`).join(',\n  ')},
  q.batch_no AS _batch_no, q.seq AS _seq
FROM t
JOIN _otel_pending q ON q.exchange_id = t.exchange_id
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
LEFT JOIN sub_agent sa ON sa.session_id = t.session_id`;
// Join conditions are plain equalities (kind tests inside CASE): a `kind = …` term in an ON clause
// turns DuckDB's hash join into a blockwise nested loop (measured: 4 s instead of 0.07 s per batch).

// One string per exchange: its rows' JSON arrays joined by newlines (JSON text has none of its own).
// Not ordered inside: `unpackRows` orders an exchange's rows.
const PACKED_ROWS_SQL = `
SELECT any_value(_batch_no)::INTEGER AS b,
       string_agg(json_array(${COLUMNS.map(([k]) => `"${k}"`).join(', ')})::VARCHAR, chr(10)) AS j
FROM (${PENDING_SPANS_SQL})
GROUP BY _seq
ORDER BY _seq`;

/**
 * The pending spans (after `computePending`) of batches `fromBatch`…`toBatch` with their attributes,
 * per batch, one string per exchange: each row packed into ONE JSON array of the values in `COLUMNS`
 * order, the rows of an exchange joined by newlines (`unpackRows` turns them into TraceRows, in order). Converting
 * ~60 mostly-null columns per row to JS values cost more than the joins (~200–400 ms per 8K rows); one
 * string per row and `JSON.parse` is ~50 ms. Times and token counts stay BIGINT in the JSON (exact
 * integers), costs DOUBLE (shortest round-trip text).
 *
 * An exchange comes out of DuckDB as one string: each value read out of a result costs a
 * native call and a copy (~1.8 µs), and sorting ~100K rows in SQL cost more than ordering ~20 rows
 * per exchange in JS (2026-11-29, three interleaved pairs: 7–10% less wall time and CPU per export).
 *
 * A few batches per query: one pass over the raw tables serves several requests (a pass has a fixed
 * cost of ~0.1 s at full scale), and the joins stay within the store's memory limit (all ~100K+ spans
 * at once did not). The rows are streamed out of the query, not written to a temp table first and
 * read back per batch: that took ~1.5 s more per full-scale export (measured 2026-11-29).
 */
export async function readPackedRows(
  conn: DuckDBConnection,
  fromBatch: number,
  toBatch: number,
): Promise<Map<number, string[]>> {
  const result = await conn.stream(PACKED_ROWS_SQL, [fromBatch, toBatch]);
  const out = new Map<number, string[]>();
  let batch = -1;
  let exchanges: string[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const b = chunk.getColumnValues(0) as number[];
    const j = chunk.getColumnValues(1) as string[];
    for (let i = 0; i < j.length; i++) {
      if (b[i] !== batch) {
        batch = b[i]!;
        exchanges = out.get(batch) ?? [];
        out.set(batch, exchanges);
      }
      exchanges.push(j[i]!);
    }
  }
  return out;
}

/** The TraceRow keys in packed-row order. */
export const PACKED_KEYS: readonly (keyof TraceRow)[] = COLUMNS.map(([k]) => k);

/**
 * One packed row (a JSON array in `COLUMNS` order) → TraceRow. Built once as a function with one
 * object literal, so every row gets the same fixed shape: assigning 58 keys one by one was ~15×
 * slower (200+ ms per 8K rows) and left the objects in slower shapes for the mapping.
 */
export const unpackRow: (values: readonly unknown[]) => TraceRow = new Function(
  'v',
  `return {${COLUMNS.map(([k], i) => `${k}: v[${i}] ?? null`).join(', ')}};`,
) as (values: readonly unknown[]) => TraceRow;

const byStartThenId = (a: TraceRow, b: TraceRow): number =>
  a.startUs === b.startUs
    ? a.spanId < b.spanId
      ? -1
      : a.spanId > b.spanId
        ? 1
        : 0
    : a.startUs === null
      ? -1
      : b.startUs === null
        ? 1
        : a.startUs - b.startUs;

/** The packed exchanges of a batch (readPackedRows) → their TraceRows, exchange after exchange. */
export function unpackRows(exchanges: readonly string[]): TraceRow[] {
  const out: TraceRow[] = [];
  for (const packed of exchanges) {
    // a parse per row: one parse of the joined batch was ~2× slower (measured, 8K rows)
    const rows = packed.split('\n').map((line) => unpackRow(JSON.parse(line) as unknown[]));
    // span order, the order the mapping reads them in: by start (none first), then span ID
    rows.sort(byStartThenId);
    for (const r of rows) out.push(r);
  }
  return out;
}

/**
 * Copies `_otel_pending` (computePending's temp table, connection-local) to another connection of
 * the same database, so that a second connection can read span rows while the first one writes the
 * ledger. The columns the reads use, as one JSON value.
 */
export async function copyPending(from: DuckDBConnection, to: DuckDBConnection): Promise<void> {
  const r = await from.runAndReadAll(
    `SELECT coalesce(to_json(list({exchange_id: exchange_id, seed: seed, trace_id: trace_id,
       seq: seq::BIGINT, batch_no: batch_no::BIGINT}))::VARCHAR, '[]') FROM _otel_pending`,
  );
  const json = (r.getColumnsJS()[0]?.[0] as string | undefined) ?? '[]';
  await to.run(
    `CREATE OR REPLACE TEMP TABLE _otel_pending AS
     SELECT unnest(from_json($1, '[{"exchange_id":"VARCHAR","seed":"VARCHAR","trace_id":"VARCHAR","seq":"BIGINT","batch_no":"BIGINT"}]'), recursive := true)`,
    [json],
  );
}

/** Opt-in content of a batch: text parts of every message in it, tool inputs and outputs. */
export interface ContentRow {
  messageId: string;
  partId: string;
  partType: string;
  startUs: number | null;
  text: string | null;
  toolInput: string | null;
  toolOutput: string | null;
}

export const BATCH_CONTENT_SQL = `
WITH msgs AS (
  SELECT DISTINCT x.message_id FROM exchange_traces x
  JOIN _otel_pending q ON q.exchange_id = x.exchange_id AND q.batch_no = $1
  WHERE x.message_id IS NOT NULL
)
SELECT p.message_id AS "messageId", p.part_id AS "partId", p.part_type AS "partType",
       epoch_us(p.time_start)::DOUBLE AS "startUs",
       CASE WHEN p.part_type = 'text' THEN p.raw->>'text' END AS "text",
       CASE WHEN p.part_type = 'tool' THEN CAST(p.raw->'state'->'input' AS VARCHAR) END AS "toolInput",
       CASE WHEN p.part_type = 'tool' THEN coalesce(p.raw->'state'->>'output', p.raw->'state'->>'error') END AS "toolOutput"
FROM parts p JOIN msgs USING (message_id)
WHERE p.part_type IN ('text', 'tool')
  AND NOT coalesce(TRY_CAST(p.raw->>'synthetic' AS BOOLEAN), false)
ORDER BY p.message_id, p.part_id`;

export async function readBatchContent(conn: DuckDBConnection, batchNo: number): Promise<ContentRow[]> {
  const reader = await conn.runAndReadAll(BATCH_CONTENT_SQL, [batchNo]);
  return reader.getRowObjectsJS() as unknown as ContentRow[];
}

export { traceIdSql };

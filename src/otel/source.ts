/**
 * Reading what to export from DuckDB.
 *
 * The TREE (ids, parents, kinds, times) comes from `exchange_traces` (issue 3); every ATTRIBUTE comes
 * from the raw tables (messages, parts, tool_calls, sessions) joined by message_id/part_id/session_id,
 * so the mapping does not depend on the keys inside `exchange_traces.attributes`. That join is part of
 * the derivation (src/store/derive/span-rows.ts: `exchange_span_rows`, one packed string per
 * exchange, IDs hashed in DuckDB); the export reads it, or runs the same query itself for exchanges
 * a store derived by an older version has no row for. One batch is a set of whole exchanges
 * (`_otel_pending.batch_no`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { traceIdSql } from '../domain/trace-ids.ts';
import {
  missingSpanRowsSql,
  PACKED_KEYS,
  pendingSpanRowsSql,
  type TraceRow,
} from '../store/derive/span-rows.ts';

export { PACKED_KEYS, type TraceRow };

const STORED_ROWS_SQL = pendingSpanRowsSql(true);
const COMPUTED_ROWS_SQL = pendingSpanRowsSql(false);

/**
 * Pending exchanges (`_otel_pending`) without a derived span row of the current format: when there
 * are any, the export computes every batch's rows from the raw tables (`readPackedRows(…, false)`).
 */
export async function pendingWithoutSpanRows(conn: DuckDBConnection): Promise<number> {
  const r = await conn.runAndReadAll(missingSpanRowsSql('_otel_pending'));
  return Number(r.getRows()[0]?.[0] ?? 0);
}

/**
 * The pending spans (after `computePending`) of batches `fromBatch`…`toBatch`, per batch, one string
 * per exchange: each row packed into ONE JSON array of the values in `PACKED_KEYS` order, the rows of
 * an exchange joined by newlines (`unpackRows` turns them into TraceRows, in order). `stored`: read
 * from `exchange_span_rows` (derived); else computed here from the raw tables by the same query.
 *
 * Why packed: converting dozens of mostly-null columns per row to JS values costs more than the joins,
 * while one string per row and `JSON.parse` is cheap, and every value read out of a result costs a
 * native call and a copy; hence one string per exchange. Times and token
 * counts stay BIGINT in the JSON (exact integers), costs DOUBLE (shortest round-trip text).
 *
 * A few batches per query: a computed pass over the raw tables has a fixed cost, and the joins stay
 * within the store's memory limit (all spans of a large store at once do not). The
 * rows are streamed out of the query, not written to a temp table first and read back per batch.
 */
export async function readPackedRows(
  conn: DuckDBConnection,
  fromBatch: number,
  toBatch: number,
  stored = true,
): Promise<Map<number, string[]>> {
  const result = await conn.stream(stored ? STORED_ROWS_SQL : COMPUTED_ROWS_SQL, [fromBatch, toBatch]);
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

/**
 * One packed row (a JSON array in `PACKED_KEYS` order) → TraceRow. Built once as a function with one
 * object literal, so every row gets the same fixed shape: assigning the keys one by one is much slower
 * and leaves the objects in slower shapes for the mapping.
 */
export const unpackRow: (values: readonly unknown[]) => TraceRow = new Function(
  'v',
  `return {${PACKED_KEYS.map((k, i) => `${k}: v[${i}] ?? null`).join(', ')}};`,
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
    // a parse per row: one parse of the joined batch is slower
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

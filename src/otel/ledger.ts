/**
 * The export ledger (migration 10): which exchanges reached the collector.
 *
 * An exchange is exported once, when it is complete; it is marked `exported` only after the collector
 * acknowledged the request that carried it. Before a batch is sent its exchanges are written as
 * `pending` (attempts + 1), so the backlog and any batch that was in flight when a process died are
 * visible in DuckDB, not only in memory. A restart recomputes the pending set from the ledger.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { traceIdSql } from '../domain/trace-ids.ts';
import { exchangeTraceSummarySql } from '../store/derive/span-rows.ts';

export const TRACES_SIGNAL = 'traces';

export interface PendingOptions {
  /** An `in_progress` exchange counts as complete once nothing happened in it for this long. */
  idleTimeoutMs: number;
  /** Only exchanges that started at or after this time. */
  since?: Date;
  /** Include exchanges the ledger already has as exported (deliberate re-export). */
  force?: boolean;
  /** Spans per batch (whole exchanges; a batch can exceed this by one exchange). */
  batchSpans: number;
  now?: Date;
}

export interface PendingSummary {
  exchanges: number;
  spans: number;
  batches: number[];
}

export class MissingAnalyticsTablesError extends Error {
  constructor(missing: string[]) {
    super(
      `the store has no ${missing.join(' / ')} table yet: traces are made from the analytics model ` +
        `(issue 3). Run \`ocbridge ingest\` with a version that derives it, then export again.`,
    );
  }
}

export async function assertTraceTables(conn: DuckDBConnection): Promise<void> {
  const r = await conn.runAndReadAll(
    'SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal',
  );
  const have = new Set(r.getRowsJS().map((row) => String(row[0])));
  const missing = ['exchanges', 'exchange_traces', 'export_ledger'].filter((t) => !have.has(t));
  if (missing.length > 0) throw new MissingAnalyticsTablesError(missing);
}

const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/**
 * (Re)computes the temp table `_otel_pending(exchange_id, seed, trace_id, started_at, span_count, seq, batch_no)`.
 *
 * Complete = status complete/error, or a newer exchange exists in the same session (a newer user
 * message arrived), or the idle timeout passed. Exchanges of a sub-agent session that is nested in
 * another exchange's trace (kind `subagent`) are not exported on their own: they are in that trace.
 */
export async function computePending(conn: DuckDBConnection, o: PendingOptions): Promise<PendingSummary> {
  const now = o.now ?? new Date();
  const idleCutoff = new Date(now.getTime() - o.idleTimeoutMs);
  const batch = Math.max(1, Math.floor(o.batchSpans));
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE _otel_pending AS
    WITH spans AS (${exchangeTraceSummarySql()}),
    nested AS (SELECT DISTINCT session_id, exchange_id FROM exchange_traces WHERE kind = 'subagent'),
    ex AS (
      SELECT e.*, max(e.started_at) OVER (PARTITION BY e.session_id) AS newest_in_session FROM exchanges e
    ),
    cand AS (
      SELECT ex.exchange_id, spans.seed, ex.started_at, spans.span_count
      FROM ex JOIN spans USING (exchange_id)
      WHERE (ex.status IN ('complete', 'error')
             OR ex.newest_in_session > ex.started_at
             OR coalesce(ex.ended_at, ex.started_at) < CAST($1 AS TIMESTAMP))
        AND NOT EXISTS (SELECT 1 FROM nested n WHERE n.session_id = ex.session_id AND n.exchange_id <> ex.exchange_id)
        AND ($2::TIMESTAMP IS NULL OR ex.started_at >= $2::TIMESTAMP)
        AND ($3 OR NOT EXISTS (
          SELECT 1 FROM export_ledger l
          WHERE l.signal = '${TRACES_SIGNAL}' AND l.exchange_id = ex.exchange_id AND l.status = 'exported'))
    )
    SELECT exchange_id, seed, ${traceIdSql('seed')} AS trace_id, started_at, span_count,
           row_number() OVER w AS seq,
           (sum(span_count) OVER w - 1) // ${batch} AS batch_no
    FROM cand
    WINDOW w AS (ORDER BY started_at NULLS FIRST, exchange_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`,
    [ts(idleCutoff), o.since ? ts(o.since) : null, o.force === true],
  );
  const r = await conn.runAndReadAll(
    `SELECT count(*)::DOUBLE AS n, coalesce(sum(span_count), 0)::DOUBLE AS spans,
            coalesce(list(DISTINCT batch_no::DOUBLE ORDER BY batch_no::DOUBLE), []) AS batches
     FROM _otel_pending`,
  );
  const row = r.getRowObjectsJS()[0] as { n: number; spans: number; batches: number[] };
  return { exchanges: row.n, spans: row.spans, batches: row.batches };
}

/** Before every send of a batch: its exchanges become `pending` (new rows) and attempts + 1. */
export async function markAttempt(conn: DuckDBConnection, batchNo: number, endpoint: string): Promise<void> {
  await conn.run(
    `INSERT INTO export_ledger (signal, exchange_id, status, trace_id, span_count, attempts, export_count,
                                first_attempt_at, last_attempt_at, endpoint)
     SELECT '${TRACES_SIGNAL}', exchange_id, 'pending', trace_id, span_count, 1, 0,
            now()::TIMESTAMP, now()::TIMESTAMP, $2
     FROM _otel_pending WHERE batch_no = $1
     ON CONFLICT (signal, exchange_id) DO UPDATE SET
       attempts = export_ledger.attempts + 1, last_attempt_at = excluded.last_attempt_at,
       trace_id = excluded.trace_id, span_count = excluded.span_count, endpoint = excluded.endpoint`,
    [batchNo, endpoint],
  );
}

/** The collector acknowledged the batch. */
export async function markExported(conn: DuckDBConnection, batchNo: number): Promise<void> {
  await conn.run(
    `UPDATE export_ledger SET status = 'exported', exported_at = now()::TIMESTAMP,
       export_count = export_count + 1, last_error = NULL
     WHERE signal = '${TRACES_SIGNAL}'
       AND exchange_id IN (SELECT exchange_id FROM _otel_pending WHERE batch_no = $1)`,
    [batchNo],
  );
}

/** The collector did not acknowledge the batch (it stays pending; the error is kept). */
export async function markFailed(conn: DuckDBConnection, batchNo: number, error: string): Promise<void> {
  await conn.run(
    `UPDATE export_ledger SET last_error = $2, last_attempt_at = now()::TIMESTAMP
     WHERE signal = '${TRACES_SIGNAL}'
       AND exchange_id IN (SELECT exchange_id FROM _otel_pending WHERE batch_no = $1)`,
    [batchNo, error.slice(0, 2000)],
  );
}

export interface LedgerStats {
  exported: number;
  exportedSpans: number;
  /** Rows written as pending (tried, never acknowledged): the backlog a previous run left. */
  pending: number;
  pendingSpans: number;
  lastError: string | null;
}

export async function ledgerStats(conn: DuckDBConnection): Promise<LedgerStats> {
  const r = await conn.runAndReadAll(
    `SELECT count(*) FILTER (WHERE status = 'exported')::DOUBLE AS exported,
            coalesce(sum(span_count) FILTER (WHERE status = 'exported'), 0)::DOUBLE AS "exportedSpans",
            count(*) FILTER (WHERE status = 'pending')::DOUBLE AS pending,
            coalesce(sum(span_count) FILTER (WHERE status = 'pending'), 0)::DOUBLE AS "pendingSpans",
            arg_max(last_error, last_attempt_at) FILTER (WHERE status = 'pending' AND last_error IS NOT NULL) AS "lastError"
     FROM export_ledger WHERE signal = '${TRACES_SIGNAL}'`,
  );
  return r.getRowObjectsJS()[0] as unknown as LedgerStats;
}

/**
 * The analytics model, derived inside DuckDB from the raw tables only (never from source files):
 * `deriveAll` rebuilds everything set-based; `deriveForSessions` re-derives the families of some
 * sessions (delete + insert by session_id). Both run in one transaction. See docs/schema.md.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { inTransaction } from '../transaction.ts';
import { baseSql } from './base.ts';
import { exchangesSql } from './exchanges.ts';
import { focusedSql } from './focused.ts';
import { ensurePricing } from './pricing.ts';
import { daysBeforeSql, rollupsSql } from './rollups.ts';
import { clearSql, EDGES_SQL, prepareScope, type Scope } from './scope.ts';
import { deriveSpanRows, missingSpanRowsSql } from './span-rows.ts';
import { tracesSql } from './traces.ts';

export { ensurePricing, pricingRowsFromDb, replacePricing, updatePricingFromFiles } from './pricing.ts';

export interface DeriveResult {
  mode: 'all' | 'sessions' | 'none';
  /** Sessions re-derived (whole families). */
  sessions: number;
  ms: number;
  /** Milliseconds per stage. */
  stages: Record<string, number>;
}

const TEMP_TABLES = [
  'd_scope',
  'd_part_raw',
  'd_edges',
  'd_roots',
  'd_msg_ex',
  'd_part_steps',
  'd_steps_raw',
  'd_steps',
  'd_ex',
  'd_links',
  'd_closure',
  'd_local',
  'd_tree',
  'd_sess_closure',
  'd_days',
  'd_span_sel',
];

/** A stage is SQL statements, run in order, or a function that runs its own. */
type Step = string | ((conn: DuckDBConnection) => Promise<void>);

function stagesFor(scope: Scope): Array<[string, Step[]]> {
  return [
    ['base', [...daysBeforeSql(scope), ...baseSql(scope)]],
    ['focused', focusedSql(scope)],
    ['exchanges', exchangesSql(scope)],
    ['traces', tracesSql(scope)],
    // the scope's span rows go with the rows they were made from; new ones are derived after the commit
    ['span_rows_clear', [clearSql(scope, 'exchange_span_rows')]],
    ['rollups', rollupsSql(scope)],
  ];
}

async function runStage(
  conn: DuckDBConnection,
  name: string,
  steps: readonly Step[],
  stages: Record<string, number>,
): Promise<void> {
  const t = performance.now();
  for (const step of steps) {
    try {
      await (typeof step === 'string' ? conn.run(step) : step(conn));
    } catch (e) {
      const what = typeof step === 'string' ? step.slice(0, 300) : '';
      throw new Error(`derive ${name}: ${(e as Error).message}\n${what}`);
    }
  }
  stages[name] = Math.round(performance.now() - t);
}

/**
 * The model in one transaction, then the span rows (`exchange_span_rows`, what the trace export reads)
 * in a second one: in the first, with every derived table's new rows still uncommitted, the span-row
 * joins of a large store run out of DuckDB's memory limit. Between the two the scope has no span rows,
 * never stale ones: an export then computes them itself (src/otel/source.ts), and the next
 * derivation fills them (`deriveSpanRowsIfMissing`). `spanRowsOnly`: the second transaction alone.
 */
async function run(
  conn: DuckDBConnection,
  scope: Scope,
  sessions: number,
  spanRowsOnly = false,
): Promise<DeriveResult> {
  const t0 = performance.now();
  const stages: Record<string, number> = {};
  if (!spanRowsOnly)
    await inTransaction(conn, async () => {
      if (scope.all) await conn.run(EDGES_SQL);
      for (const [name, steps] of stagesFor(scope)) await runStage(conn, name, steps, stages);
    });
  await inTransaction(conn, () => runStage(conn, 'span_rows', [(c) => deriveSpanRows(c, scope)], stages));
  for (const t of TEMP_TABLES) await conn.run(`DROP TABLE IF EXISTS ${t}`);
  return { mode: scope.all ? 'all' : 'sessions', sessions, ms: Math.round(performance.now() - t0), stages };
}

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await conn.runAndReadAll(sql);
  return Number(r.getRows()[0]?.[0] ?? 0);
}

/** Rebuilds every derived table from the raw tables. */
export async function deriveAll(conn: DuckDBConnection): Promise<DeriveResult> {
  await ensurePricing(conn);
  return run(conn, { all: true }, await count(conn, 'SELECT count(*) FROM sessions'));
}

/** Re-derives the given sessions and their whole families (parents and sub-agents). */
export async function deriveForSessions(
  conn: DuckDBConnection,
  sessionIds: Iterable<string>,
): Promise<DeriveResult> {
  const ids = [...new Set(sessionIds)];
  if (ids.length === 0) return { mode: 'none', sessions: 0, ms: 0, stages: {} };
  await ensurePricing(conn);
  const n = await prepareScope(conn, ids);
  return run(conn, { all: false }, n);
}

/** Connections deriveAfterIngest has checked for missing span rows. */
const spanRowsChecked = new WeakSet<DuckDBConnection>();

/**
 * After an ingest: everything when the model is empty or most sessions changed (set-based is faster),
 * else only the touched sessions' families. Then, the first time on a connection, the span rows of
 * every exchange if some lack one of the current format: a store derived by an older version, or a
 * process that died between the model's transaction and the span rows' (a derivation that fails
 * without dying leaves its sessions queued, and they are derived again), so a check per process is
 * enough; a check per live derivation would cost a query over every exchange each time.
 */
export async function deriveAfterIngest(
  conn: DuckDBConnection,
  touchedSessions: ReadonlySet<string>,
): Promise<DeriveResult> {
  const result = await deriveTouched(conn, touchedSessions);
  if (spanRowsChecked.has(conn)) return result;
  const rows = await deriveSpanRowsIfMissing(conn);
  spanRowsChecked.add(conn);
  if (!rows) return result;
  return {
    ...result,
    ms: result.ms + rows.ms,
    stages: { ...result.stages, span_rows: (result.stages.span_rows ?? 0) + (rows.stages.span_rows ?? 0) },
  };
}

/**
 * The span rows of every exchange (`exchange_span_rows`), when an exchange has none of the current
 * format (a store derived by an older version, or traces written without the derivation). Returns
 * undefined when none was missing.
 */
export async function deriveSpanRowsIfMissing(conn: DuckDBConnection): Promise<DeriveResult | undefined> {
  if ((await count(conn, missingSpanRowsSql())) === 0) return undefined;
  return run(conn, { all: true }, 0, true);
}

async function deriveTouched(
  conn: DuckDBConnection,
  touchedSessions: ReadonlySet<string>,
): Promise<DeriveResult> {
  const derived = await count(conn, 'SELECT count(*) FROM session_resource_metrics');
  const total = await count(conn, 'SELECT count(*) FROM sessions');
  if (derived === 0 && total > 0) return deriveAll(conn);
  if (touchedSessions.size === 0) return { mode: 'none', sessions: 0, ms: 0, stages: {} };
  if (touchedSessions.size > Math.max(50, total * 0.25)) return deriveAll(conn);
  return deriveForSessions(conn, touchedSessions);
}

/**
 * Runs the data health checks over one DuckDB connection and stores the results in
 * `health_check_history` (migration 12). The caller supplies the connection: `ocbridge health` opens
 * the file, a running bridge passes a connection of its own instance (never the writer's, which may
 * be inside a transaction).
 */
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { inTransaction } from '../transaction.ts';
import { CHECKS } from './checks.ts';
import type { CheckDef, HealthContext, HealthResult, HealthStatus, Threshold } from './types.ts';

export { CHECK_IDS, CHECKS } from './checks.ts';
export type * from './types.ts';

export function statusOf(value: number | null, direction: 'max' | 'min', t: Threshold): HealthStatus {
  if (value === null || Number.isNaN(value)) return 'pass';
  const beyond = (limit: number) => (direction === 'max' ? value > limit : value < limit);
  if (beyond(t.fail)) return 'fail';
  if (t.warn !== undefined && beyond(t.warn)) return 'warn';
  return 'pass';
}

export function thresholdOf(check: CheckDef, ctx: HealthContext): Threshold {
  const o = ctx.thresholds?.[check.id];
  return { ...check.threshold, ...(o ?? {}) } as Threshold;
}

/** Runs every check (or `ctx.only`); a check that throws fails with the error as its explanation. */
export async function runHealthChecks(
  conn: DuckDBConnection,
  ctx: HealthContext = {},
): Promise<HealthResult[]> {
  const now = ctx.now ?? new Date();
  const out: HealthResult[] = [];
  for (const check of CHECKS) {
    if (ctx.only && !ctx.only.includes(check.id)) continue;
    const threshold = thresholdOf(check, ctx);
    const t0 = performance.now();
    let value: number | null = null;
    let explanation: string;
    let failed = false;
    try {
      ({ value, explanation } = await check.measure(conn, { ...ctx, now }));
    } catch (e) {
      failed = true;
      explanation = `check failed to run: ${(e as Error).message.split('\n')[0]}`;
    }
    out.push({
      id: check.id,
      status: failed ? 'fail' : statusOf(value, check.direction, threshold),
      value,
      unit: check.unit,
      direction: check.direction,
      threshold,
      explanation,
      ms: Math.round(performance.now() - t0),
    });
  }
  return out;
}

const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Stores one run's results; drops history older than `keepDays` (default 90). Returns the run id. */
export async function saveHealthResults(
  conn: DuckDBConnection,
  results: readonly HealthResult[],
  opts: { now?: Date; keepDays?: number } = {},
): Promise<string> {
  const runId = randomUUID();
  const at = ts(opts.now ?? new Date());
  await inTransaction(conn, async () => {
    for (const r of results)
      await conn.run(
        'INSERT INTO health_check_history VALUES ($1, CAST($2 AS TIMESTAMP), $3, $4, $5, $6, $7, $8)',
        [
          runId,
          at,
          r.id,
          r.status,
          r.value,
          r.threshold.warn ?? null,
          r.threshold.fail,
          r.explanation,
        ] as never,
      );
    await conn.run(
      `DELETE FROM health_check_history WHERE checked_at < CAST($1 AS TIMESTAMP) - to_days(CAST($2 AS INTEGER))`,
      [at, opts.keepDays ?? 90] as never,
    );
  });
  return runId;
}

/** The shape the /metrics side takes (`recordHealth`): ok = not failing. */
export function toMetricResults(results: readonly HealthResult[]) {
  return results.map((r) => ({ check: r.id, ok: r.status !== 'fail', value: r.value }));
}

export const worstStatus = (results: readonly HealthResult[]): HealthStatus =>
  results.some((r) => r.status === 'fail')
    ? 'fail'
    : results.some((r) => r.status === 'warn')
      ? 'warn'
      : 'pass';

/** The health checks of the running bridge and its store over time: lag, backlog, latency, anomalies, size. */

import { runReport } from '../reports.ts';
import { anomaly, num, one, pct, storeBytes, ts } from './check-helpers.ts';
import type { CheckDef } from './types.ts';

export const RUNTIME_CHECKS: readonly CheckDef[] = [
  {
    id: 'watch_lag',
    unit: 'ms',
    direction: 'max',
    threshold: { warn: 2000, fail: 30000 },
    description: 'time a seen change waits before it is applied (live mode)',
    async measure(_conn, ctx) {
      if (ctx.watchLagMs === undefined || ctx.watchLagMs === null)
        return { value: null, explanation: 'not measured: no running bridge' };
      return {
        value: ctx.watchLagMs,
        explanation: `oldest unapplied change is ${Math.round(ctx.watchLagMs)} ms old`,
      };
    },
  },
  {
    id: 'export_backlog',
    unit: 'exchanges',
    direction: 'max',
    threshold: { warn: 1000, fail: 10000 },
    description: 'finished exchanges not exported yet (when trace export is in use)',
    async measure(_conn, ctx) {
      if (ctx.exportBacklog === undefined || ctx.exportBacklog === null)
        return { value: null, explanation: 'not measured: trace export not in use' };
      return {
        value: ctx.exportBacklog,
        explanation: `${ctx.exportBacklog} finished exchanges wait for export`,
      };
    },
  },
  {
    id: 'query_latency',
    unit: 'ms',
    direction: 'max',
    threshold: { warn: 1000, fail: 5000 },
    description: 'the slowest of the key queries (sessions, daily, models, errors reports)',
    async measure(conn) {
      const times: [string, number][] = [];
      for (const name of ['sessions', 'daily', 'models', 'errors'] as const) {
        const t0 = performance.now();
        await runReport(conn, name, { limit: 100 });
        times.push([name, performance.now() - t0]);
      }
      times.sort((a, b) => b[1] - a[1]);
      const [name, ms] = times[0] as [string, number];
      return { value: ms, explanation: `slowest key query: ${name} report ${ms.toFixed(0)} ms` };
    },
  },
  {
    id: 'cost_anomaly',
    unit: 'ratio',
    direction: 'max',
    threshold: { warn: 3, fail: 10 },
    description: "today's cost against the trailing 7-day median",
    measure: (conn, ctx) => anomaly(conn, ctx.now, 'sum(coalesce(computed_cost_usd, cost_usd))', 'USD', 1),
  },
  {
    id: 'token_anomaly',
    unit: 'ratio',
    direction: 'max',
    threshold: { warn: 3, fail: 10 },
    description: "today's tokens against the trailing 7-day median",
    measure: (conn, ctx) =>
      anomaly(
        conn,
        ctx.now,
        'sum(input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens)',
        'tokens',
        10_000,
      ),
  },
  {
    id: 'error_rate_anomaly',
    unit: 'ratio',
    direction: 'max',
    threshold: { warn: 3, fail: 10 },
    description: "today's error rate (errors per assistant message) against the trailing 7-day median",
    measure: (conn, ctx) =>
      anomaly(
        conn,
        ctx.now,
        'sum(error_count) / nullif(sum(assistant_message_count), 0)',
        'errors/message',
        0,
      ),
  },
  {
    id: 'derive_backlog',
    unit: 'sessions',
    direction: 'max',
    threshold: { warn: 100, fail: 5000 },
    description: 'sessions queued for derivation (derived tables lag the raw rows)',
    async measure(conn) {
      const r = await one(conn, 'SELECT count(DISTINCT session_id) AS n FROM derive_queue');
      const n = num(r.n) ?? 0;
      return { value: n, explanation: `${n} sessions wait to be derived` };
    },
  },
  {
    id: 'db_size',
    unit: 'bytes',
    direction: 'max',
    threshold: { warn: 20e9, fail: 100e9 },
    description: 'size of the DuckDB store',
    async measure(conn) {
      const b = await storeBytes(conn);
      return { value: b, explanation: `the store uses ${(b / 1e6).toFixed(1)} MB` };
    },
  },
  {
    id: 'db_size_growth',
    unit: 'ratio/day',
    direction: 'max',
    threshold: { warn: 1, fail: 5 },
    description:
      'store growth per day, against the oldest size recorded in the last 7 days (at least 1 h ago)',
    async measure(conn, ctx) {
      const then = await one(
        conn,
        `SELECT value, epoch(CAST($1 AS TIMESTAMP) - checked_at) AS secs FROM health_check_history
         WHERE check_id = 'db_size' AND value > 0
           AND checked_at BETWEEN CAST($1 AS TIMESTAMP) - INTERVAL 7 DAY AND CAST($1 AS TIMESTAMP) - INTERVAL 1 HOUR
         ORDER BY checked_at LIMIT 1`,
        [ts(ctx.now)],
      );
      const b = await storeBytes(conn);
      const v0 = num(then.value);
      const secs = num(then.secs);
      if (v0 === null || !secs) return { value: null, explanation: 'no earlier size recorded (≥ 1 h ago)' };
      const perDay = (b - v0) / v0 / (secs / 86400);
      return {
        value: perDay,
        explanation: `${(v0 / 1e6).toFixed(1)} MB → ${(b / 1e6).toFixed(1)} MB in ${(secs / 3600).toFixed(1)} h (${pct(perDay)} a day)`,
      };
    },
  },
];

/** Small helpers the health checks share: queries, number and time formatting, anomaly and orphan checks. */
import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CheckDef, Measured } from './types.ts';

export type Row = Record<string, unknown>;

export async function all(conn: DuckDBConnection, sql: string, params: unknown[] = []): Promise<Row[]> {
  const r = await conn.runAndReadAll(sql, params as never);
  return r.getRowObjectsJS() as Row[];
}

export const num = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : Number(v);

export async function one(conn: DuckDBConnection, sql: string, params: unknown[] = []): Promise<Row> {
  return (await all(conn, sql, params))[0] ?? {};
}

export const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
export const list = (xs: unknown[], n = 3) =>
  xs.length === 0 ? '' : ` (e.g. ${xs.slice(0, n).map(String).join(', ')}${xs.length > n ? ', …' : ''})`;

/** Today (UTC, from ctx.now) against the median of the 7 days before it, from daily_stats. */
export async function anomaly(
  conn: DuckDBConnection,
  now: Date,
  expr: string,
  what: string,
  minToday: number,
): Promise<Measured> {
  const r = await one(
    conn,
    `WITH days AS (
       SELECT CAST(d AS DATE) AS day FROM generate_series(CAST($1 AS DATE) - INTERVAL 7 DAY, CAST($1 AS DATE), INTERVAL 1 DAY) t(d)),
     per_day AS (
       SELECT days.day, coalesce((SELECT ${expr} FROM daily_stats s WHERE s.day = days.day), 0)::DOUBLE AS v FROM days)
     SELECT (SELECT v FROM per_day WHERE day = CAST($1 AS DATE)) AS today,
            (SELECT median(v) FROM per_day WHERE day < CAST($1 AS DATE)) AS baseline`,
    [ts(now)],
  );
  const today = num(r.today) ?? 0;
  const baseline = num(r.baseline) ?? 0;
  if (baseline <= 0)
    return { value: null, explanation: `no ${what} baseline (7-day median is 0); today ${today.toFixed(2)}` };
  if (today < minToday)
    return {
      value: today / baseline,
      explanation: `today ${today.toFixed(2)} ${what} is too little to judge`,
    };
  return {
    value: today / baseline,
    explanation: `today ${today.toFixed(2)} ${what} = ${(today / baseline).toFixed(2)}× the 7-day median ${baseline.toFixed(2)}`,
  };
}

/** The store's file plus its WAL on disk (an in-memory store: the blocks it uses). */
export async function storeBytes(conn: DuckDBConnection): Promise<number> {
  const r = await one(
    conn,
    `SELECT d.path, (s.used_blocks * s.block_size)::DOUBLE AS bytes
     FROM duckdb_databases() d JOIN pragma_database_size() s USING (database_name)
     WHERE d.database_name = current_database()`,
  );
  const path = typeof r.path === 'string' ? r.path : null;
  if (!path) return num(r.bytes) ?? 0;
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  return size(path) + size(`${path}.wal`);
}

/** Rows whose parent is not in the store, as a share of all rows (parts → messages, messages → sessions). */
export function orphanCheck(
  id: string,
  child: { table: string; id: string; noun: string },
  parent: { table: string; key: string; noun: string },
): CheckDef {
  return {
    id,
    unit: 'ratio',
    direction: 'max',
    threshold: { warn: 0, fail: 0.01 },
    description: `${child.noun} whose ${parent.noun} is not in the store (share of all ${child.noun})`,
    async measure(conn) {
      const r = await one(
        conn,
        `SELECT count(*) FILTER (WHERE p.${parent.key} IS NULL) AS orphans, count(*) AS total,
                (list(c.${child.id}) FILTER (WHERE p.${parent.key} IS NULL))[1:3] AS sample
         FROM ${child.table} c LEFT JOIN ${parent.table} p USING (${parent.key})`,
      );
      const o = num(r.orphans) ?? 0;
      const t = num(r.total) ?? 0;
      return {
        value: t ? o / t : 0,
        explanation: `${o} of ${t} ${child.noun} have no ${parent.noun}${list((r.sample as unknown[]) ?? [])}`,
      };
    },
  };
}

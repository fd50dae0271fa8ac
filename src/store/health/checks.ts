/**
 * The data health checks. Each one measures one number over the store (pure SQL) or over the
 * injected live context, and says in one line what it found. Thresholds are defaults; every one can
 * be overridden (config file `health.thresholds`, docs/configuration.md).
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UNREADABLE_FOLDER } from '../file-checkpoints.ts';
import { runReport } from '../reports.ts';
import type { CheckDef, HealthContext, Measured } from './types.ts';

type Row = Record<string, unknown>;

async function all(conn: DuckDBConnection, sql: string, params: unknown[] = []): Promise<Row[]> {
  const r = await conn.runAndReadAll(sql, params as never);
  return r.getRowObjectsJS() as Row[];
}

const num = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : Number(v);

async function one(conn: DuckDBConnection, sql: string, params: unknown[] = []): Promise<Row> {
  return (await all(conn, sql, params))[0] ?? {};
}

const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const list = (xs: unknown[], n = 3) =>
  xs.length === 0 ? '' : ` (e.g. ${xs.slice(0, n).map(String).join(', ')}${xs.length > n ? ', …' : ''})`;

/** Today (UTC, from ctx.now) against the median of the 7 days before it, from daily_stats. */
async function anomaly(
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
async function storeBytes(conn: DuckDBConnection): Promise<number> {
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
function orphanCheck(
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

export const CHECKS: readonly CheckDef[] = [
  {
    id: 'source_readable',
    unit: 'sources',
    direction: 'max',
    threshold: { fail: 0 },
    description:
      'every OpenCode source (storage/ tree, opencode*.db) is readable, and no folder of the tree was unreadable at the last listing',
    async measure(conn, ctx) {
      if (!ctx.sources) return { value: null, explanation: 'not measured: no sources given' };
      const bad: string[] = [];
      for (const s of ctx.sources) {
        try {
          statSync(s.path);
          accessSync(s.path, constants.R_OK | (s.kind === 'db' ? 0 : constants.X_OK));
        } catch (e) {
          bad.push(`${s.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      // folders inside the tree: the ingest records the ones it could not list (cleared once listed)
      const folders = await all(
        conn,
        `SELECT source_path, reason FROM ingest_errors WHERE starts_with(reason, $1) ORDER BY source_path`,
        [UNREADABLE_FOLDER],
      );
      for (const f of folders)
        bad.push(
          `${f.source_path}: ${
            String(f.reason)
              .slice(UNREADABLE_FOLDER.length + 2)
              .split(' ')[0]
          } (folder)`,
        );
      return {
        value: bad.length,
        explanation: bad.length
          ? `${bad.length} sources or folders unreadable${list(bad)}`
          : `all ${ctx.sources.length} sources readable`,
      };
    },
  },
  {
    id: 'ingest_errors',
    unit: 'inputs',
    direction: 'max',
    threshold: { warn: 0, fail: 10 },
    description:
      'inputs that could not be read in the last N hours (ingest_errors, severity error; N = health.ingestErrorHours, 24)',
    async measure(conn, ctx) {
      const hours = Math.round(ctx.ingestErrorHours ?? 24);
      const rows = await all(
        conn,
        `SELECT source_path, reason FROM ingest_errors
         WHERE severity = 'error' AND last_seen_at >= CAST($1 AS TIMESTAMP) - to_hours(CAST($2 AS BIGINT))
         ORDER BY last_seen_at DESC`,
        [ts(ctx.now), hours],
      );
      return {
        value: rows.length,
        explanation: rows.length
          ? `${rows.length} unreadable inputs in ${hours} h${list(rows.map((r) => r.source_path))}; see ingest_errors`
          : `no unreadable inputs in ${hours} h`,
      };
    },
  },
  orphanCheck(
    'orphan_parts',
    { table: 'parts', id: 'part_id', noun: 'parts' },
    {
      table: 'messages',
      key: 'message_id',
      noun: 'message',
    },
  ),
  orphanCheck(
    'orphan_messages',
    { table: 'messages', id: 'message_id', noun: 'messages' },
    {
      table: 'sessions',
      key: 'session_id',
      noun: 'session',
    },
  ),
  {
    id: 'duplicate_ids',
    unit: 'ids',
    direction: 'max',
    threshold: { fail: 0 },
    description: 'IDs stored twice across sources or in the derived tables (rank rule v2 > v1 > json held)',
    async measure(conn) {
      const r = await one(
        conn,
        `SELECT
           (SELECT count(*) FROM source_shadows sh WHERE
              (sh.entity = 'session' AND EXISTS (SELECT 1 FROM sessions x WHERE x.session_id = sh.entity_id AND x.source = sh.source AND x.source_path = sh.source_path))
           OR (sh.entity = 'message' AND EXISTS (SELECT 1 FROM messages x WHERE x.message_id = sh.entity_id AND x.source = sh.source AND x.source_path = sh.source_path))
           OR (sh.entity = 'part' AND EXISTS (SELECT 1 FROM parts x WHERE x.part_id = sh.entity_id AND x.source = sh.source AND x.source_path = sh.source_path))) AS shadow_won,
           (SELECT count(*) - count(DISTINCT message_id) FROM message_facts) AS facts,
           (SELECT count(*) - count(DISTINCT exchange_id) FROM exchanges) AS exchanges,
           (SELECT count(*) - count(DISTINCT step_id) FROM steps) AS steps,
           (SELECT count(*) - count(DISTINCT part_id) FROM tool_call_facts) AS tools,
           (SELECT count(*) - count(DISTINCT (exchange_id, span_id)) FROM exchange_traces) AS spans`,
      );
      const parts = Object.entries(r)
        .map(([k, v]) => [k, num(v) ?? 0] as const)
        .filter(([, v]) => v > 0);
      const total = parts.reduce((a, [, v]) => a + v, 0);
      return {
        value: total,
        explanation: total
          ? `duplicates: ${parts.map(([k, v]) => `${k} ${v}`).join(', ')}`
          : 'every ID is stored once; shadowed copies lost to the higher-ranked source',
      };
    },
  },
  {
    id: 'exchange_coverage',
    unit: 'messages',
    direction: 'max',
    threshold: { fail: 0 },
    description: 'every user message starts an exchange',
    async measure(conn) {
      const r = await one(
        conn,
        `SELECT count(*) AS missing, list(m.message_id)[1:3] AS sample FROM messages m
         WHERE m.role = 'user' AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.exchange_id = m.message_id)`,
      );
      const n = num(r.missing) ?? 0;
      return {
        value: n,
        explanation: n
          ? `${n} user messages have no exchange${list((r.sample as unknown[]) ?? [])}; re-derive (ocbridge ingest)`
          : 'every user message has its exchange',
      };
    },
  },
  {
    id: 'tool_execution_time',
    unit: 'calls',
    direction: 'max',
    threshold: { fail: 0 },
    description: 'every finished tool call (completed, error) has an execution time',
    async measure(conn) {
      const r = await one(
        conn,
        `SELECT count(*) FILTER (WHERE execution_time_ms IS NULL) AS missing, count(*) AS total
         FROM tool_calls WHERE status IN ('completed', 'error')`,
      );
      const n = num(r.missing) ?? 0;
      return {
        value: n,
        explanation: `${n} of ${num(r.total) ?? 0} finished tool calls lack an execution time`,
      };
    },
  },
  {
    id: 'token_coverage',
    unit: 'ratio',
    direction: 'min',
    threshold: { fail: 0.95 },
    description: 'tokens present on at least 95% of finished assistant messages',
    async measure(conn) {
      const r = await one(
        conn,
        `SELECT count(*) AS total, count(*) FILTER (WHERE token_source IS NOT NULL) AS with_tokens
         FROM messages WHERE role = 'assistant' AND completed_at IS NOT NULL`,
      );
      const t = num(r.total) ?? 0;
      const w = num(r.with_tokens) ?? 0;
      if (t === 0) return { value: null, explanation: 'no finished assistant messages yet' };
      return {
        value: w / t,
        explanation: `${w} of ${t} finished assistant messages have tokens (${pct(w / t)})`,
      };
    },
  },
  {
    id: 'cost_agreement',
    unit: 'ratio',
    direction: 'max',
    threshold: { warn: 0.02, fail: 0.05 },
    description: 'computed cost within ±5% of recorded cost, where both exist',
    async measure(conn) {
      const rows = await all(
        conn,
        `SELECT provider_id || '/' || model_id AS model, sum(cost_usd)::DOUBLE AS recorded,
                sum(computed_cost_usd)::DOUBLE AS computed
         FROM message_facts WHERE role = 'assistant' AND cost_usd > 0 AND computed_cost_usd IS NOT NULL
         GROUP BY 1 ORDER BY abs(sum(computed_cost_usd) - sum(cost_usd)) / sum(cost_usd) DESC`,
      );
      if (rows.length === 0)
        return { value: null, explanation: 'no messages with both recorded and computed cost' };
      const rec = rows.reduce((a, r) => a + (num(r.recorded) ?? 0), 0);
      const comp = rows.reduce((a, r) => a + (num(r.computed) ?? 0), 0);
      const worst = rows[0] as Row;
      const wd =
        Math.abs((num(worst.computed) ?? 0) - (num(worst.recorded) ?? 0)) / (num(worst.recorded) ?? 1);
      return {
        value: Math.abs(comp - rec) / rec,
        explanation: `computed $${comp.toFixed(2)} vs recorded $${rec.toFixed(2)} (${pct(Math.abs(comp - rec) / rec)}); worst model ${String(worst.model)} ${pct(wd)}`,
      };
    },
  },
  {
    id: 'model_priced',
    unit: 'models',
    direction: 'max',
    threshold: { fail: 0 },
    description: 'every model used has a price, or is listed as unpriced (health.unpricedModels)',
    async measure(conn, ctx) {
      const rows = await all(
        conn,
        `SELECT DISTINCT m.provider_id, m.model_id FROM messages m
         WHERE m.role = 'assistant' AND m.model_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM message_facts f WHERE f.provider_id = m.provider_id AND f.model_id = m.model_id
                           AND f.computed_cost_usd IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM model_price_key k WHERE k.provider_id = m.provider_id AND k.model_id = m.model_id
                           AND k.price_model_id IS NOT NULL)
         ORDER BY 1, 2`,
      );
      const listed = new Set(ctx.unpricedModels ?? []);
      const missing = rows
        .map((r) => ({ full: `${String(r.provider_id)}/${String(r.model_id)}`, model: String(r.model_id) }))
        .filter((m) => !listed.has(m.full) && !listed.has(m.model))
        .map((m) => m.full);
      return {
        value: missing.length,
        explanation: missing.length
          ? `${missing.length} models without a price${list(missing)}: add them (ocbridge pricing update --overrides) or list them as unpriced`
          : `every model is priced (${rows.length} listed as unpriced)`,
      };
    },
  },
  {
    id: 'subagent_links',
    unit: 'links',
    direction: 'max',
    threshold: { warn: 0, fail: 5 },
    description: 'sub-agent links resolve: parent sessions and task-call child sessions exist',
    async measure(conn) {
      const r = await one(
        conn,
        `SELECT
           (SELECT count(*) FROM sessions c WHERE c.parent_session_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM sessions p WHERE p.session_id = c.parent_session_id)) AS parents,
           (SELECT count(*) FROM tool_calls t WHERE t.child_session_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_id = t.child_session_id)) AS children`,
      );
      const p = num(r.parents) ?? 0;
      const c = num(r.children) ?? 0;
      return {
        value: p + c,
        explanation: `${p} sessions with a missing parent, ${c} task calls with a missing child session`,
      };
    },
  },
  {
    id: 'watch_lag',
    unit: 'ms',
    direction: 'max',
    threshold: { warn: 2000, fail: 30000 },
    description: 'time a seen change waits before it is applied (live mode)',
    async measure(_conn, ctx) {
      if (ctx.watchLagMs === undefined || ctx.watchLagMs === null)
        return { value: null, explanation: 'not measured: no running bridge' };
      const pending = ctx.pendingChanges === undefined ? '' : `${ctx.pendingChanges} changes pending; `;
      const failing = ctx.applyError ? `; applying them fails: ${ctx.applyError}` : '';
      return {
        value: ctx.watchLagMs,
        explanation: `${pending}oldest unapplied change is ${Math.round(ctx.watchLagMs)} ms old${failing}`,
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

export const CHECK_IDS: readonly string[] = CHECKS.map((c) => c.id);

export type { HealthContext };

/**
 * The data health checks. Each one measures one number over the store (pure SQL) or over the
 * injected live context, and says in one line what it found. Thresholds are defaults; every one can
 * be overridden (config file `health.thresholds`, docs/configuration.md).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { all, list, num, one, orphanCheck, pct, type Row, ts } from './check-helpers.ts';
import { RUNTIME_CHECKS } from './checks-runtime.ts';
import type { CheckDef, HealthContext } from './types.ts';

/** The data checks: sources, ingest problems, duplicates, coverage, cost, pricing, links. */
const DATA_CHECKS: readonly CheckDef[] = [
  {
    id: 'source_readable',
    unit: 'sources',
    direction: 'max',
    threshold: { fail: 0 },
    description: 'every OpenCode source (storage/ tree, opencode*.db) is readable',
    async measure(_conn, ctx) {
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
      return {
        value: bad.length,
        explanation: bad.length
          ? `${bad.length} of ${ctx.sources.length} sources unreadable${list(bad)}`
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
];

export const CHECKS: readonly CheckDef[] = [...DATA_CHECKS, ...RUNTIME_CHECKS];

export const CHECK_IDS: readonly string[] = CHECKS.map((c) => c.id);

export type { HealthContext };

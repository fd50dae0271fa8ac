/**
 * Usage values as batches: one per-series accumulation per refresh, kept per session so a live refresh
 * replaces only the sessions it re-read (`Batch.plus` with sign -1 and +1).
 */
import type { Attributes } from '@opentelemetry/api';
import { providerName } from '../../domain/providers.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GEN_AI_TOOL_NAME,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  METRIC_OPENCODE_COST_USD,
  METRIC_OPENCODE_ERRORS,
  METRIC_OPENCODE_EXCHANGES,
  METRIC_OPENCODE_LLM_CALLS,
  METRIC_OPENCODE_SESSIONS,
  METRIC_OPENCODE_TOKENS,
  METRIC_OPENCODE_TOOL_CALLS,
  METRIC_OPENCODE_TOOL_DURATION,
} from '../semconv.ts';
import type { Row, UsageAggregates } from './aggregates.ts';
import type { BoundedLabel } from './bounded-label.ts';

export interface HistogramValue {
  counts: number[];
  sum: number;
}

export type Kind = 'counter' | 'histogram';

export interface Family {
  name: string;
  description: string;
  unit: string;
  kind: Kind;
  boundaries?: readonly number[];
  /** series key → attributes and value */
  series: Map<string, Series>;
}

export interface Series {
  attributes: Attributes;
  /** rendered labels (render.ts), made once */
  labels?: string;
  value: number | HistogramValue;
  /**
   * A series that appears while live is shown as 0 until a scrape saw it (then its value), so that
   * increase() counts its first value; set to the refresh generation that created it.
   */
  pendingGen?: number;
  pendingSince?: number;
}

export const key = (a: Attributes) => JSON.stringify(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1)));
export type V = Row[string] | undefined;
export const s = (v: V, fallback = 'unknown') => (v == null || v === '' ? fallback : String(v));
export const n = (v: V) => (v == null ? 0 : Number(v));

/** Accumulates one refresh's values per series before they are merged (max) into the families. */
export class Batch {
  readonly values = new Map<
    string,
    Map<string, { attributes: Attributes; value: number | HistogramValue }>
  >();
  add(f: Family, attributes: Attributes, v: number): void {
    const m = this.of(f);
    const k = key(attributes);
    const cur = m.get(k);
    m.set(k, { attributes, value: ((cur?.value as number | undefined) ?? 0) + v });
  }
  observe(f: Family, attributes: Attributes, idx: number, count: number, sum: number): void {
    const m = this.of(f);
    const k = key(attributes);
    let cur = m.get(k)?.value as HistogramValue | undefined;
    if (!cur) {
      cur = { counts: new Array((f.boundaries?.length ?? 0) + 1).fill(0), sum: 0 };
      m.set(k, { attributes, value: cur });
    }
    const i = Math.min(idx, cur.counts.length - 1);
    cur.counts[i] = (cur.counts[i] ?? 0) + count;
    cur.sum += sum;
  }
  /** Adds (sign 1) or takes away (sign -1) another batch's values. */
  plus(o: Batch, sign: 1 | -1): void {
    for (const [name, m] of o.values) {
      let mine = this.values.get(name);
      if (!mine) {
        mine = new Map();
        this.values.set(name, mine);
      }
      for (const [k, v] of m) {
        const cur = mine.get(k);
        if (typeof v.value === 'number') {
          mine.set(k, {
            attributes: v.attributes,
            value: ((cur?.value as number | undefined) ?? 0) + sign * v.value,
          });
          continue;
        }
        let h = cur?.value as HistogramValue | undefined;
        if (!h) {
          h = { counts: v.value.counts.map(() => 0), sum: 0 };
          mine.set(k, { attributes: v.attributes, value: h });
        }
        for (let i = 0; i < h.counts.length; i++)
          h.counts[i] = (h.counts[i] ?? 0) + sign * (v.value.counts[i] ?? 0);
        h.sum += sign * v.value.sum;
      }
    }
  }
  private of(f: Family) {
    let m = this.values.get(f.name);
    if (!m) {
      m = new Map();
      this.values.set(f.name, m);
    }
    return m;
  }
}

/** The bounded labels a batch's attributes go through. */
export interface UsageLabels {
  project: BoundedLabel;
  model: BoundedLabel;
  tool: BoundedLabel;
  agent: BoundedLabel;
}

/** One batch per session (key: session ID) from a read of the store. */
export function sessionBatches(
  a: UsageAggregates,
  labels: UsageLabels,
  family: (name: string) => Family,
): Map<string, Batch> {
  const per = new Map<string, Batch>();
  const B = (r: Row) => {
    const sid = s(r.session_id, '');
    let b = per.get(sid);
    if (!b) {
      b = new Batch();
      per.set(sid, b);
    }
    return b;
  };
  const proj = (v: V) => labels.project.map(s(v));
  const model = (v: V) => labels.model.map(s(v));
  const tool = (v: V) => labels.tool.map(s(v));
  const agent = (v: V) => labels.agent.map(s(v));

  const tokens = family(METRIC_OPENCODE_TOKENS);
  const cost = family(METRIC_OPENCODE_COST_USD);
  for (const r of a.usage) {
    const base = {
      provider: s(r.provider),
      model: model(r.model),
      agent: agent(r.agent),
      project: proj(r.project),
    };
    for (const t of ['input', 'output', 'reasoning', 'cache_read', 'cache_write'] as const)
      B(r).add(tokens, { ...base, type: t }, n(r[t]));
    B(r).add(cost, { ...base, kind: 'recorded' }, n(r.recorded));
    B(r).add(cost, { ...base, kind: 'computed' }, n(r.computed));
  }

  const calls = family(METRIC_OPENCODE_LLM_CALLS);
  const tokenUsage = family(METRIC_GEN_AI_CLIENT_TOKEN_USAGE);
  const duration = family(METRIC_GEN_AI_CLIENT_OPERATION_DURATION);
  for (const r of a.steps) {
    B(r).add(
      calls,
      {
        provider: s(r.provider),
        model: model(r.model),
        agent: agent(r.agent),
        status: r.failed ? 'error' : 'ok',
      },
      n(r.n),
    );
    const gen = {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
      [ATTR_GEN_AI_PROVIDER_NAME]: providerName(r.provider == null ? null : String(r.provider)),
      [ATTR_GEN_AI_REQUEST_MODEL]: model(r.model),
    };
    if (r.dur_idx != null)
      B(r).observe(
        duration,
        r.error_type == null ? gen : { ...gen, [ATTR_ERROR_TYPE]: String(r.error_type) },
        n(r.dur_idx),
        n(r.n),
        n(r.dur_sum),
      );
    if (r.in_idx != null)
      B(r).observe(
        tokenUsage,
        { ...gen, [ATTR_GEN_AI_TOKEN_TYPE]: 'input' },
        n(r.in_idx),
        n(r.n),
        n(r.in_sum),
      );
    if (r.out_idx != null)
      B(r).observe(
        tokenUsage,
        { ...gen, [ATTR_GEN_AI_TOKEN_TYPE]: 'output' },
        n(r.out_idx),
        n(r.n),
        n(r.out_sum),
      );
  }

  const toolCalls = family(METRIC_OPENCODE_TOOL_CALLS);
  const toolDuration = family(METRIC_OPENCODE_TOOL_DURATION);
  for (const r of a.tools) {
    const t = tool(r.tool);
    B(r).add(toolCalls, { tool: t, status: s(r.status) }, n(r.n));
    if (r.dur_idx == null) continue;
    B(r).observe(toolDuration, { tool: t }, n(r.dur_idx), n(r.n), n(r.dur_sum));
    const gen: Attributes = {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
      [ATTR_GEN_AI_PROVIDER_NAME]: providerName(r.provider == null ? null : String(r.provider)),
      [ATTR_GEN_AI_REQUEST_MODEL]: model(r.model),
      [ATTR_GEN_AI_TOOL_NAME]: t,
    };
    if (r.error_type != null) gen[ATTR_ERROR_TYPE] = String(r.error_type);
    B(r).observe(duration, gen, n(r.dur_idx), n(r.n), n(r.dur_sum));
  }

  const errors = family(METRIC_OPENCODE_ERRORS);
  for (const r of a.errors)
    B(r).add(
      errors,
      { category: s(r.category), source: s(r.source), provider: s(r.provider), model: model(r.model) },
      n(r.n),
    );
  const sessions = family(METRIC_OPENCODE_SESSIONS);
  for (const r of a.sessions) B(r).add(sessions, { project: proj(r.project), kind: s(r.kind) }, n(r.n));
  const exchanges = family(METRIC_OPENCODE_EXCHANGES);
  for (const r of a.exchanges)
    B(r).add(exchanges, { project: proj(r.project), agent: agent(r.agent), status: s(r.status) }, n(r.n));

  return per;
}

/**
 * Usage metrics as an OpenTelemetry `MetricProducer`: cumulative values computed from the store
 * (aggregates.ts), cached, and handed to every reader (Prometheus, OTLP) without running SQL on a
 * scrape. Values are all-time totals, so a restart continues every series where it was; each series
 * only ever goes up while the process lives (max with the last value); `project`, `model` (and tool)
 * labels are bounded to a sticky top N plus `other`.
 */
import { gzipSync } from 'node:zlib';
import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { providerName } from '../../domain/providers.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GEN_AI_TOOL_NAME,
  GEN_AI_OPERATION_DURATION_BUCKETS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_TOKEN_USAGE_BUCKETS,
  INSTRUMENTATION_SCOPE_NAME,
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
import { type Format, labelString, type RenderFamily, renderFamilies } from './render.ts';

export const OTHER = 'other';

/** A label whose values are bounded: the top N (chosen once, then sticky) keep their name, the rest are `other`. */
export class BoundedLabel {
  private readonly admitted = new Set<string>();
  constructor(readonly limit: number) {}
  /** Admits values by rank (best first) while there is room; admitted values stay for the process' life. */
  admit(ranked: Iterable<string>): void {
    for (const v of ranked) {
      if (this.admitted.size >= this.limit) return;
      this.admitted.add(v);
    }
  }
  map(v: string): string {
    if (this.admitted.has(v)) return v;
    if (this.admitted.size < this.limit) {
      this.admitted.add(v);
      return v;
    }
    return OTHER;
  }
}

interface HistogramValue {
  counts: number[];
  sum: number;
}

type Kind = 'counter' | 'histogram';

interface Family {
  name: string;
  description: string;
  unit: string;
  kind: Kind;
  boundaries?: readonly number[];
  /** series key → attributes and value */
  series: Map<string, Series>;
}

interface Series {
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

const key = (a: Attributes) => JSON.stringify(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1)));
type V = Row[string] | undefined;
const s = (v: V, fallback = 'unknown') => (v == null || v === '' ? fallback : String(v));
const n = (v: V) => (v == null ? 0 : Number(v));

/** Accumulates one refresh's values per series before they are merged (max) into the families. */
class Batch {
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

export interface UsageProducerOptions {
  /** Distinct `project` and `model` values kept (the rest are `other`); default 20. */
  topN?: number;
  /** Distinct tool names kept; default 50. */
  topTools?: number;
  resource: Resource;
  version: string;
}

export class UsageProducer implements MetricProducer {
  private readonly families = new Map<string, Family>();
  private readonly project: BoundedLabel;
  private readonly model: BoundedLabel;
  private readonly tool: BoundedLabel;
  private readonly startTime: HrTime = hrTime();
  private ready = false;
  /** each session's share of the totals, so a live refresh re-reads only the sessions that changed */
  private contrib = new Map<string, Batch>();
  private totals = new Batch();
  private gen = 0;
  /** bumped whenever what a scrape shows changes; keys the rendered-text cache */
  private version = 0;
  private readonly rendered = new Map<string, { version: number; bytes: Buffer }>();
  private readonly agent: BoundedLabel;
  /** unix ms of the last refresh */
  refreshedAt: number | null = null;

  constructor(private readonly opts: UsageProducerOptions) {
    const top = opts.topN ?? 20;
    this.project = new BoundedLabel(top);
    this.model = new BoundedLabel(top);
    this.tool = new BoundedLabel(opts.topTools ?? 50);
    this.agent = new BoundedLabel(top);
    const fam = (
      name: string,
      description: string,
      unit: string,
      kind: Kind,
      boundaries?: readonly number[],
    ) => this.families.set(name, { name, description, unit, kind, boundaries, series: new Map() });
    fam(
      METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
      'Tokens per LLM call (input includes cache read and write, output includes reasoning)',
      '{token}',
      'histogram',
      GEN_AI_TOKEN_USAGE_BUCKETS,
    );
    fam(
      METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
      'Duration of LLM calls (chat) and tool calls (execute_tool)',
      's',
      'histogram',
      GEN_AI_OPERATION_DURATION_BUCKETS,
    );
    fam(
      METRIC_OPENCODE_TOKENS,
      'Tokens used, by type (as OpenCode records them: input excludes cache)',
      '{token}',
      'counter',
    );
    fam(
      METRIC_OPENCODE_COST_USD,
      'Cost in USD: recorded by OpenCode, and computed from the price list',
      'USD',
      'counter',
    );
    fam(METRIC_OPENCODE_LLM_CALLS, 'Finished LLM calls (steps)', '{call}', 'counter');
    fam(METRIC_OPENCODE_TOOL_CALLS, 'Finished tool calls, by final status', '{call}', 'counter');
    fam(
      METRIC_OPENCODE_TOOL_DURATION,
      'Tool execution time',
      's',
      'histogram',
      GEN_AI_OPERATION_DURATION_BUCKETS,
    );
    fam(METRIC_OPENCODE_ERRORS, 'Errors by category and source (message, tool, retry)', '{error}', 'counter');
    fam(METRIC_OPENCODE_SESSIONS, 'Sessions (root and sub-agent)', '{session}', 'counter');
    fam(
      METRIC_OPENCODE_EXCHANGES,
      'Finished exchanges (user prompt and everything that answered it)',
      '{exchange}',
      'counter',
    );
  }

  private f(name: string): Family {
    const f = this.families.get(name);
    if (!f) throw new Error(`unknown metric ${name}`);
    return f;
  }

  /** Replaces the cached values with a new read of the store (each series max'ed with its last value). */
  /**
   * Takes a read of the store: of every session (`only` unset: the totals are rebuilt), or of
   * these sessions only (their old contribution is replaced). Then each series is max'ed into the
   * exposed values.
   */
  update(a: UsageAggregates, only?: readonly string[]): void {
    // rank once, by all-time tokens: the biggest projects and models keep their names
    const tokensOf = (r: Row) =>
      n(r.input) + n(r.output) + n(r.reasoning) + n(r.cache_read) + n(r.cache_write);
    const rank = (pick: (r: Row) => string) => {
      const m = new Map<string, number>();
      for (const r of a.usage) m.set(pick(r), (m.get(pick(r)) ?? 0) + tokensOf(r));
      return [...m.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([k]) => k);
    };
    if (!this.ready) {
      this.project.admit(rank((r) => s(r.project)));
      this.model.admit(rank((r) => s(r.model)));
      this.agent.admit(rank((r) => s(r.agent)));
    }
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
    const proj = (v: V) => this.project.map(s(v));
    const model = (v: V) => this.model.map(s(v));
    const tool = (v: V) => this.tool.map(s(v));
    const agent = (v: V) => this.agent.map(s(v));

    const tokens = this.f(METRIC_OPENCODE_TOKENS);
    const cost = this.f(METRIC_OPENCODE_COST_USD);
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

    const calls = this.f(METRIC_OPENCODE_LLM_CALLS);
    const tokenUsage = this.f(METRIC_GEN_AI_CLIENT_TOKEN_USAGE);
    const duration = this.f(METRIC_GEN_AI_CLIENT_OPERATION_DURATION);
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

    const toolCalls = this.f(METRIC_OPENCODE_TOOL_CALLS);
    const toolDuration = this.f(METRIC_OPENCODE_TOOL_DURATION);
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

    const errors = this.f(METRIC_OPENCODE_ERRORS);
    for (const r of a.errors)
      B(r).add(
        errors,
        { category: s(r.category), source: s(r.source), provider: s(r.provider), model: model(r.model) },
        n(r.n),
      );
    const sessions = this.f(METRIC_OPENCODE_SESSIONS);
    for (const r of a.sessions) B(r).add(sessions, { project: proj(r.project), kind: s(r.kind) }, n(r.n));
    const exchanges = this.f(METRIC_OPENCODE_EXCHANGES);
    for (const r of a.exchanges)
      B(r).add(exchanges, { project: proj(r.project), agent: agent(r.agent), status: s(r.status) }, n(r.n));

    if (!only) {
      this.contrib = per;
      this.totals = new Batch();
      for (const b of per.values()) this.totals.plus(b, 1);
    } else {
      for (const sid of only) {
        const old = this.contrib.get(sid);
        if (old) this.totals.plus(old, -1);
        const now = per.get(sid);
        if (now) {
          this.totals.plus(now, 1);
          this.contrib.set(sid, now);
        } else this.contrib.delete(sid);
      }
    }
    this.merge(this.totals);
    this.ready = true;
    this.refreshedAt = Date.now();
  }

  /** Monotonic per series while the process lives: never below the last value; vanished series keep theirs. */
  private merge(b: Batch): void {
    this.gen++;
    this.version++;
    for (const [name, values] of b.values) {
      const f = this.f(name);
      for (const [k, v] of values) {
        const cur = f.series.get(k);
        if (!cur) {
          // the history's series start at their value; a series born live starts at 0 (see Series)
          const copy: Series = {
            attributes: v.attributes,
            value: typeof v.value === 'number' ? v.value : { counts: [...v.value.counts], sum: v.value.sum },
          };
          f.series.set(k, this.ready ? { ...copy, pendingGen: this.gen, pendingSince: Date.now() } : copy);
          continue;
        }
        if (typeof v.value === 'number') {
          cur.value = Math.max(cur.value as number, v.value);
        } else {
          const c = cur.value as HistogramValue;
          const counts = c.counts.map((x, i) => Math.max(x, (v.value as HistogramValue).counts[i] ?? 0));
          cur.value = { counts, sum: Math.max(c.sum, v.value.sum) };
        }
      }
    }
  }

  /** The refresh generation (pass it to release() after a scrape that started at it). */
  get generation(): number {
    return this.gen;
  }

  /**
   * A scrape that began at generation `gen` has shown the new series as 0: show their values from now
   * on. Series nobody scraped are released after `holdMs` anyway (OTLP-only setups).
   */
  release(gen: number, holdMs = 120_000): void {
    const old = Date.now() - holdMs;
    for (const f of this.families.values())
      for (const p of f.series.values())
        if (p.pendingGen !== undefined && (p.pendingGen <= gen || (p.pendingSince ?? 0) < old)) {
          this.version++;
          p.pendingGen = undefined;
          p.pendingSince = undefined;
        }
  }

  /** The usage part gzipped (one gzip member; members concatenate into one valid gzip stream). */
  renderGzip(format: Format): Buffer {
    const k = `${format}.gz`;
    const hit = this.rendered.get(k);
    if (hit && hit.version === this.version) return hit.bytes;
    const bytes = gzipSync(this.render(format), { level: 6 });
    this.rendered.set(k, { version: this.version, bytes });
    return bytes;
  }

  /** The usage part of `/metrics` (UTF-8), rendered once per change of the values. */
  render(format: Format): Buffer {
    const hit = this.rendered.get(format);
    if (hit && hit.version === this.version) return hit.bytes;
    const families: RenderFamily[] = [...this.families.values()].map((f) => ({
      name: f.name,
      description: f.description,
      unit: f.unit,
      kind: f.kind,
      boundaries: f.boundaries,
      series: [...f.series.values()].map((p) => {
        p.labels ??= labelString(p.attributes);
        let value = p.value;
        if (p.pendingGen !== undefined)
          value = typeof value === 'number' ? 0 : { counts: value.counts.map(() => 0), sum: 0 };
        return { labels: p.labels, value };
      }),
    }));
    const bytes = Buffer.from(renderFamilies(families, format));
    this.rendered.set(format, { version: this.version, bytes });
    return bytes;
  }

  /** True once the store has been read (before that the usage series are not exposed). */
  get isReady(): boolean {
    return this.ready;
  }

  async collect(): Promise<CollectionResult> {
    const end = hrTime();
    const metrics: MetricData[] = [];
    for (const f of this.families.values()) {
      if (f.series.size === 0) continue;
      const descriptor = {
        name: f.name,
        description: f.description,
        unit: f.unit,
        valueType: ValueType.DOUBLE,
      };
      if (f.kind === 'counter') {
        metrics.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: [...f.series.values()].map((p) => ({
            startTime: this.startTime,
            endTime: end,
            attributes: p.attributes,
            value: p.pendingGen === undefined ? (p.value as number) : 0,
          })),
        });
      } else {
        metrics.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: [...f.series.values()].map((p) => {
            const h =
              p.pendingGen === undefined
                ? (p.value as HistogramValue)
                : { counts: (p.value as HistogramValue).counts.map(() => 0), sum: 0 };
            return {
              startTime: this.startTime,
              endTime: end,
              attributes: p.attributes,
              value: {
                buckets: { boundaries: [...(f.boundaries ?? [])], counts: [...h.counts] },
                sum: h.sum,
                count: h.counts.reduce((x, y) => x + y, 0),
              },
            };
          }),
        });
      }
    }
    return {
      resourceMetrics: {
        resource: this.opts.resource,
        scopeMetrics: [{ scope: { name: INSTRUMENTATION_SCOPE_NAME, version: this.opts.version }, metrics }],
      },
      errors: [],
    };
  }
}

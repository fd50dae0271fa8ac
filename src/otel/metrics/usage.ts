/**
 * Usage metrics as an OpenTelemetry `MetricProducer`: cumulative values computed from the store
 * (aggregates.ts), cached, and handed to every reader (Prometheus, OTLP) without running SQL on a
 * scrape. Values are all-time totals, so a restart continues every series where it was; each series
 * only ever goes up while the process lives (max with the last value); `project`, `model` (and tool)
 * labels are bounded to a sticky top N plus `other`.
 */
import { gzipSync } from 'node:zlib';
import { type HrTime, ValueType } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import {
  GEN_AI_OPERATION_DURATION_BUCKETS,
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
import { BoundedLabel } from './bounded-label.ts';
import { type Format, labelString, type RenderFamily, renderFamilies } from './render.ts';
import {
  Batch,
  type Family,
  type HistogramValue,
  type Kind,
  n,
  type Series,
  s,
  sessionBatches,
} from './usage-batch.ts';

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
    const labels = { project: this.project, model: this.model, tool: this.tool, agent: this.agent };
    const per = sessionBatches(a, labels, (name) => this.f(name));

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

/**
 * The bridge's metrics (docs/metrics.md): usage metrics computed from the store (usage.ts, a
 * MetricProducer refreshed after each derivation and cached), bridge self-metrics through the OTel
 * metrics SDK, exposed on `/metrics` (Prometheus text, OpenMetrics when asked) and, when configured,
 * pushed over OTLP/HTTP.
 *
 * `createMetrics(store, opts)` → `BridgeMetrics`; `attach(liveBridge)` follows ingestion;
 * `handle(req)` answers GET /metrics; `onRequest(obs)` records API request durations;
 * `recordHealth(results)` sets the health-check gauges.
 */
import { statSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Attributes } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { RequestObservation } from '../../domain/request-observation.ts';
import { INGEST_PROBLEM_CODES } from '../../ingest/records.ts';
import type { Store } from '../../store/db.ts';
import type { WriteStats } from '../../store/writer.ts';
import { computePending } from '../ledger.ts';
import { buildResource, resourceAttributes } from '../resource.ts';
import {
  ATTR_SERVICE_VERSION,
  INSTRUMENTATION_SCOPE_NAME,
  METRIC_BRIDGE_BUILD_INFO,
  METRIC_BRIDGE_CPU,
  METRIC_BRIDGE_DB_SIZE,
  METRIC_BRIDGE_DEGRADED,
  METRIC_BRIDGE_EVENTLOOP_LAG,
  METRIC_BRIDGE_EXPORT_BACKLOG,
  METRIC_BRIDGE_HEALTH_STATUS,
  METRIC_BRIDGE_HEALTH_VALUE,
  METRIC_BRIDGE_HTTP_DURATION,
  METRIC_BRIDGE_INGEST_ERRORS,
  METRIC_BRIDGE_LAST_INGEST,
  METRIC_BRIDGE_OLDEST_PENDING,
  METRIC_BRIDGE_PENDING_CHANGES,
  METRIC_BRIDGE_ROWS_INGESTED,
  METRIC_BRIDGE_RSS,
  METRIC_BRIDGE_SPANS_EXPORTED,
  METRIC_BRIDGE_SPANS_FAILED,
  METRIC_BRIDGE_WATCH_LAG,
} from '../semconv.ts';
import { familiesOf, readStoreSelfStats, readUsageAggregates } from './aggregates.ts';
import {
  OPENMETRICS_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
  toOpenMetrics,
  toPrometheusText,
  wantsOpenMetrics,
} from './exposition.ts';
import { UsageProducer } from './usage.ts';

/** What metrics need from live mode (LiveBridge has it; src/otel does not import src/pipeline). */
export interface IngestEvents {
  on(event: 'applied' | 'ready' | 'flushed', listener: () => void): unknown;
  on(event: 'derived', listener: (n: number, sessions?: ReadonlySet<string>) => void): unknown;
  readonly writeStats: WriteStats | null;
  /** unix ms of the newest source change seen, and of the last successful apply commit */
  readonly lastChangeSeenAt: number | null;
  readonly lastCommitAt: number | null;
  /** changes seen and not applied yet, the oldest one's age, and whether applying fails or lags */
  readonly status?: { pendingChanges: number; oldestPendingMs: number; degraded: boolean };
}

export interface MetricsOptions {
  /** Distinct `project` and `model` label values (the rest are `other`); default 20. */
  topN?: number;
  /** Distinct tool names; default 50. */
  topTools?: number;
  /** Usage values are re-read from the store at most this often (ms) after changes; default 15000. */
  refreshIntervalMs?: number;
  /** Everything is re-read from the store this often (live refreshes read only what changed); default 10 min. */
  fullRefreshMs?: number;
  /** An in-progress exchange counts (as `in_progress`) once idle this long; default 30 min (as the trace export). */
  idleTimeoutMs?: number;
  /** Serve `/metrics` (Prometheus); default true. Off: GET /metrics answers 404. */
  prometheus?: boolean;
  /** Push over OTLP/HTTP; default: when `otlpEndpoint` is set. */
  otlp?: boolean;
  /** OTLP/HTTP metrics endpoint (full URL, e.g. http://localhost:4318/v1/metrics); unset: the SDK reads
   *  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4318. */
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
  /** OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT (ms); default 60000 / 30000. */
  otlpIntervalMs?: number;
  otlpTimeoutMs?: number;
  version: string;
  /** `service.name` of the bridge's own metrics (`opencode_bridge_*`); default `ocbridge`. */
  serviceName?: string;
  /** `service.name` of the OpenCode usage metrics pushed over OTLP; default as the traces' (docs/otel.md). */
  activityServiceName?: string;
  onError?: (e: Error) => void;
}

export interface HealthResult {
  check: string;
  ok: boolean;
  value: number | null;
}

/** `service.name` of the bridge's own telemetry (self-metrics), distinct from OpenCode's activity. */
export const BRIDGE_SERVICE_NAME = 'ocbridge';

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class BridgeMetrics {
  readonly usage: UsageProducer;
  private readonly provider: MeterProvider;
  private readonly prometheus: PrometheusExporter | null;
  private readonly activityProvider: MeterProvider | null;
  private conn: DuckDBConnection | null = null;
  private refreshing: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private lastRefresh = 0;
  private closed = false;
  private readonly httpDuration;
  private readonly health = new Map<string, HealthResult>();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private self = {
    lastIngestSeconds: null as number | null,
    spansExported: 0,
    spansFailed: 0,
    backlog: null as number | null,
  };
  private readonly rows = new Map<string, number>();
  /** every reason starts at 0, so the first problem shows in increase() */
  private readonly problems = new Map<string, number>(INGEST_PROBLEM_CODES.map((r) => [r, 0]));
  private readonly seen = new WeakMap<
    WriteStats,
    { rows: Record<string, number>; problems: Record<string, number> }
  >();
  private bridge: IngestEvents | null = null;
  /** sessions derived since the last refresh, and whether the next refresh must read everything */
  private touched = new Set<string>();
  private needFull = true;
  private lastBacklog = 0;
  private readonly fullTimer: NodeJS.Timeout;
  /** ms the last refresh of the usage values took, and how many ran */
  lastRefreshMs = 0;
  refreshCount = 0;

  constructor(
    private readonly store: Store,
    private readonly opts: MetricsOptions,
  ) {
    // Two resources: the bridge's own metrics are its service (`ocbridge`), the usage metrics describe
    // OpenCode's activity and carry the traces' resource (docs/otel.md "service.name").
    const resource = resourceFromAttributes({
      ...resourceAttributes({ serviceName: opts.serviceName ?? BRIDGE_SERVICE_NAME }),
      [ATTR_SERVICE_VERSION]: opts.version,
    });
    const activity = buildResource({ serviceName: opts.activityServiceName });
    this.usage = new UsageProducer({
      topN: opts.topN,
      topTools: opts.topTools,
      resource: activity,
      version: opts.version,
    });
    this.prometheus =
      opts.prometheus === false
        ? null
        : new PrometheusExporter({
            preventServerStart: true,
            withoutScopeInfo: true,
            withoutTargetInfo: true,
          });
    const readers: (PrometheusExporter | PeriodicExportingMetricReader)[] = this.prometheus
      ? [this.prometheus]
      : [];
    const otlp = opts.otlp ?? opts.otlpEndpoint !== undefined;
    const pushReader = (producers: UsageProducer[]) =>
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: opts.otlpEndpoint, headers: opts.otlpHeaders }),
        exportIntervalMillis: opts.otlpIntervalMs ?? 60_000,
        exportTimeoutMillis: Math.min(opts.otlpTimeoutMs ?? 30_000, opts.otlpIntervalMs ?? 60_000),
        metricProducers: producers,
      });
    if (otlp) readers.push(pushReader([]));
    this.provider = new MeterProvider({ resource, readers });
    // the usage metrics: a provider of their own (no instruments), so a push carries their resource
    this.activityProvider = otlp
      ? new MeterProvider({ resource: activity, readers: [pushReader([this.usage])] })
      : null;
    const meter = this.provider.getMeter(INSTRUMENTATION_SCOPE_NAME, opts.version);
    this.loopDelay.enable();
    // exchanges idle past the timeout are counted without any change: re-read everything now and then
    this.fullTimer = setInterval(() => {
      this.needFull = true;
      this.refreshSoon();
    }, opts.fullRefreshMs ?? 600_000);
    this.fullTimer.unref();

    this.httpDuration = meter.createHistogram(METRIC_BRIDGE_HTTP_DURATION, {
      description: 'HTTP API request duration (route = the matched pattern)',
      unit: 's',
      advice: { explicitBucketBoundaries: HTTP_BUCKETS },
    });
    const counter = (
      name: string,
      description: string,
      get: () => Iterable<[Attributes, number]>,
      unit?: string,
    ) =>
      meter.createObservableCounter(name, { description, unit }).addCallback((r) => {
        for (const [a, v] of get()) r.observe(v, a);
      });
    const gauge = (
      name: string,
      description: string,
      get: () => Iterable<[Attributes, number]>,
      unit?: string,
    ) =>
      meter.createObservableGauge(name, { description, unit }).addCallback((r) => {
        for (const [a, v] of get()) r.observe(v, a);
      });
    const one = (v: number | null): Iterable<[Attributes, number]> => (v == null ? [] : [[{}, v]]);

    counter(
      METRIC_BRIDGE_ROWS_INGESTED,
      'Rows written to the store by this process, by table and source',
      () => {
        this.pullWriteStats();
        return [...this.rows].map(([k, v]) => {
          const [table = '', source = ''] = k.split('/');
          return [{ table, source }, v] as [Attributes, number];
        });
      },
    );
    counter(METRIC_BRIDGE_INGEST_ERRORS, 'Ingest problems recorded by this process, by reason', () => {
      this.pullWriteStats();
      return [...this.problems].map(([reason, v]) => [{ reason }, v] as [Attributes, number]);
    });
    gauge(
      METRIC_BRIDGE_WATCH_LAG,
      'Now minus the newest source change seen (time() - this = when that change was seen)',
      () => one(this.watchLag()),
      's',
    );
    const live = () => this.bridge?.status ?? null;
    gauge(METRIC_BRIDGE_PENDING_CHANGES, 'Source changes seen and not applied yet (live mode)', () =>
      one(live()?.pendingChanges ?? null),
    );
    gauge(
      METRIC_BRIDGE_OLDEST_PENDING,
      'Age of the oldest source change not applied yet (0: none; live mode)',
      () => one(live() ? (live()?.oldestPendingMs ?? 0) / 1000 : null),
      's',
    );
    gauge(
      METRIC_BRIDGE_DEGRADED,
      '1 while changes fail to be applied or wait over 30 s (/api/health says degraded), else 0',
      () => one(live() ? (live()?.degraded ? 1 : 0) : null),
    );
    gauge(
      METRIC_BRIDGE_LAST_INGEST,
      'Unix time of the last successful ingest commit',
      () => one(this.lastIngest()),
      's',
    );
    gauge(METRIC_BRIDGE_EXPORT_BACKLOG, 'Complete exchanges not yet exported as traces (export ledger)', () =>
      one(this.self.backlog),
    );
    counter(METRIC_BRIDGE_SPANS_EXPORTED, 'Spans acknowledged by the OTLP collector (export ledger)', () =>
      one(this.self.spansExported),
    );
    counter(
      METRIC_BRIDGE_SPANS_FAILED,
      'Spans in export attempts the collector did not acknowledge (export ledger)',
      () => one(this.self.spansFailed),
    );
    gauge(METRIC_BRIDGE_DB_SIZE, 'DuckDB store file size (with its WAL)', () => one(this.dbSize()), 'By');
    counter(
      METRIC_BRIDGE_CPU,
      'Process CPU time (user + system)',
      () => {
        const u = process.cpuUsage();
        return one((u.user + u.system) / 1e6);
      },
      's',
    );
    gauge(METRIC_BRIDGE_RSS, 'Process resident memory', () => one(process.memoryUsage().rss), 'By');
    gauge(
      METRIC_BRIDGE_EVENTLOOP_LAG,
      'Event-loop delay, p99 since the previous collection',
      () => {
        const v = this.loopDelay.percentile(99) / 1e9;
        this.loopDelay.reset();
        return one(Number.isFinite(v) ? v : 0);
      },
      's',
    );
    gauge(METRIC_BRIDGE_BUILD_INFO, 'Build information (always 1)', () => [
      [{ version: opts.version, node_version: process.version }, 1],
    ]);
    gauge(METRIC_BRIDGE_HEALTH_STATUS, 'Health check result (1 pass, 0 fail)', () =>
      [...this.health.values()].map((h) => [{ check: h.check }, h.ok ? 1 : 0] as [Attributes, number]),
    );
    gauge(METRIC_BRIDGE_HEALTH_VALUE, 'The value a health check compared with its threshold', () =>
      [...this.health.values()]
        .filter((h) => h.value != null && Number.isFinite(h.value))
        .map((h) => [{ check: h.check }, h.value as number] as [Attributes, number]),
    );
  }

  /** Follows live mode: reads the store once history is loaded, then after each derivation (throttled). */
  attach(bridge: IngestEvents): void {
    this.bridge = bridge;
    bridge.on('ready', () => {
      this.needFull = true;
      this.refreshSoon(0);
    });
    bridge.on('derived', (_n: number, sessions?: ReadonlySet<string>) => {
      if (sessions) for (const s of sessions) this.touched.add(s);
      else this.needFull = true;
      this.refreshSoon();
    });
    bridge.on('applied', () => this.pullWriteStats());
  }

  /**
   * now − newest source change seen. Before this process saw one: now − the last ingest commit, so
   * `time() - watch_lag - last_ingest_timestamp` (changes seen but not ingested) is 0, not a false alarm.
   */
  private watchLag(): number | null {
    const seen = this.bridge?.lastChangeSeenAt ?? null;
    const last = this.lastIngest();
    const t = seen == null ? last : seen / 1000;
    return t == null ? null : Math.max(0, Date.now() / 1000 - t);
  }

  /** unix seconds of the last successful ingest commit: this process' own, else the store's checkpoints */
  private lastIngest(): number | null {
    const own = this.bridge?.lastCommitAt;
    const v = Math.max(own == null ? 0 : own / 1000, this.self.lastIngestSeconds ?? 0);
    return v > 0 ? v : null;
  }

  private pullWriteStats(): void {
    const st = this.bridge?.writeStats;
    if (!st) return;
    const last = this.seen.get(st) ?? { rows: {}, problems: {} };
    for (const [k, v] of Object.entries(st.rows))
      this.rows.set(k, (this.rows.get(k) ?? 0) + v - (last.rows[k] ?? 0));
    for (const [k, v] of Object.entries(st.problems))
      this.problems.set(k, (this.problems.get(k) ?? 0) + v - (last.problems[k] ?? 0));
    this.seen.set(st, { rows: { ...st.rows }, problems: { ...st.problems } });
  }

  private dbSize(): number | null {
    let size = 0;
    for (const f of [this.store.path, `${this.store.path}.wal`]) {
      try {
        size += statSync(f).size;
      } catch {
        // no WAL right now
      }
    }
    return size > 0 ? size : null;
  }

  /** Schedules a refresh of the cached values (coalesced; at most one per refreshIntervalMs). */
  refreshSoon(delayMs?: number): void {
    if (this.closed) return;
    if (this.refreshing) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    const interval = this.opts.refreshIntervalMs ?? 15_000;
    const wait = delayMs ?? Math.max(0, this.lastRefresh + interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh().catch((e: Error) => this.opts.onError?.(e));
    }, wait);
    this.timer.unref();
  }

  /** Reads the store now (on the metrics' own connection) and updates the cached values. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      const t0 = performance.now();
      try {
        this.conn ??= await this.store.instance.connect();
        const now = new Date();
        const idle = this.opts.idleTimeoutMs ?? 30 * 60_000;
        if (this.needFull || !this.usage.isReady) {
          this.needFull = false;
          this.touched.clear();
          try {
            this.usage.update(await readUsageAggregates(this.conn, now, idle));
          } catch (e) {
            this.needFull = true;
            throw e;
          }
        } else if (this.touched.size > 0) {
          const ids = [...this.touched];
          this.touched.clear();
          try {
            const family = await familiesOf(this.conn, ids);
            this.usage.update(await readUsageAggregates(this.conn, now, idle, family), family);
          } catch (e) {
            for (const id of ids) this.touched.add(id);
            throw e;
          }
        }
        const st = await readStoreSelfStats(this.conn);
        const s = this.self;
        s.lastIngestSeconds = Math.max(s.lastIngestSeconds ?? 0, st.lastIngestSeconds ?? 0) || null;
        s.spansExported = Math.max(s.spansExported, st.spansExported);
        s.spansFailed = Math.max(s.spansFailed, st.spansFailed);
        // the backlog reads every exchange's spans: at most every 30 s
        if (s.backlog === null || Date.now() - this.lastBacklog > 30_000) {
          s.backlog = (
            await computePending(this.conn, { idleTimeoutMs: idle, batchSpans: 1e12, now })
          ).exchanges;
          this.lastBacklog = Date.now();
        }
      } finally {
        this.lastRefresh = Date.now();
        this.lastRefreshMs = performance.now() - t0;
        this.refreshCount++;
        this.refreshing = null;
      }
      if (this.again) {
        this.again = false;
        this.refreshSoon();
      }
    })();
    return this.refreshing;
  }

  /** Answers GET /metrics. */
  async handle(req: Request): Promise<Response> {
    if (!this.prometheus)
      return new Response('metrics on /metrics are off (OTEL_METRICS_EXPORTER or OTEL_SDK_DISABLED)\n', {
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    const gen = this.usage.generation;
    // self-metrics through the SDK and the exporter's serializer; the (big) usage part rendered from cache
    const { resourceMetrics, errors } = await this.prometheus.collect();
    if (errors.length > 0) this.opts.onError?.(new Error(`metrics collection: ${String(errors[0])}`));
    const om = wantsOpenMetrics(req.headers.get('accept'));
    const format = om ? 'openmetrics' : 'text';
    const self = om ? toOpenMetrics(resourceMetrics, { eof: false }) : toPrometheusText(resourceMetrics);
    const tail = om ? '# EOF\n' : '';
    // Prometheus asks for gzip: the big usage part is compressed once per change, and gzip members
    // concatenate into one valid stream
    const gzip = /\bgzip\b/.test(req.headers.get('accept-encoding') ?? '');
    const body = gzip
      ? Buffer.concat([gzipSync(self), this.usage.renderGzip(format), ...(tail ? [gzipSync(tail)] : [])])
      : Buffer.concat([Buffer.from(self), this.usage.render(format), Buffer.from(tail)]);
    this.usage.release(gen);
    const headers: Record<string, string> = {
      'content-type': om ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE,
    };
    if (gzip) headers['content-encoding'] = 'gzip';
    return new Response(body, { headers });
  }

  /** The HTTP server calls this once per answered request. */
  onRequest = (r: RequestObservation): void => {
    this.httpDuration.record(r.seconds, { method: r.method, route: r.route, status: String(r.status) });
  };

  /** Sets `opencode_bridge_health_check_status` / `_value` (the health checks call this after each run). */
  recordHealth = (results: readonly HealthResult[]): void => {
    for (const r of results) this.health.set(r.check, { ...r });
  };

  async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.fullTimer);
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing?.catch(() => {});
    this.loopDelay.disable();
    await this.provider.shutdown().catch(() => {});
    await this.activityProvider?.shutdown().catch(() => {});
    this.conn?.closeSync();
    this.conn = null;
  }
}

export function createMetrics(store: Store, opts: MetricsOptions): BridgeMetrics {
  return new BridgeMetrics(store, opts);
}

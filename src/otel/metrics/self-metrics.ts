/**
 * The bridge's own metrics as OTel observable instruments: rows and problems written, watch lag, last
 * ingest, export backlog and spans, store size, CPU, RSS, event-loop delay, build info, health checks.
 * Each reads its value from `src` when a reader collects.
 */
import { statSync } from 'node:fs';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Attributes, Meter } from '@opentelemetry/api';
import {
  METRIC_BRIDGE_BUILD_INFO,
  METRIC_BRIDGE_CPU,
  METRIC_BRIDGE_DB_SIZE,
  METRIC_BRIDGE_EVENTLOOP_LAG,
  METRIC_BRIDGE_EXPORT_BACKLOG,
  METRIC_BRIDGE_HEALTH_STATUS,
  METRIC_BRIDGE_HEALTH_VALUE,
  METRIC_BRIDGE_INGEST_ERRORS,
  METRIC_BRIDGE_LAST_INGEST,
  METRIC_BRIDGE_ROWS_INGESTED,
  METRIC_BRIDGE_RSS,
  METRIC_BRIDGE_SPANS_EXPORTED,
  METRIC_BRIDGE_SPANS_FAILED,
  METRIC_BRIDGE_WATCH_LAG,
} from '../semconv.ts';

export interface HealthResult {
  check: string;
  ok: boolean;
  value: number | null;
}

/** Where the self-metrics read their values. */
export interface SelfMetricsSource {
  /** brings `rows` and `problems` up to date from the live writer's counters */
  pullWriteStats(): void;
  /** rows written, by `<table>/<source>` */
  rows: ReadonlyMap<string, number>;
  /** problems recorded, by code */
  problems: ReadonlyMap<string, number>;
  watchLag(): number | null;
  lastIngest(): number | null;
  self: { backlog: number | null; spansExported: number | null; spansFailed: number | null };
  dbSize(): number | null;
  health: ReadonlyMap<string, HealthResult>;
}

/** The store file's size with its WAL (null when neither exists). */
export function storeFileSize(path: string): number | null {
  let size = 0;
  for (const f of [path, `${path}.wal`]) {
    try {
      size += statSync(f).size;
    } catch {
      // no WAL right now
    }
  }
  return size > 0 ? size : null;
}

/** Registers the instruments on `meter`; returns the event-loop monitor (disable it on shutdown). */
export function registerSelfMetrics(
  meter: Meter,
  src: SelfMetricsSource,
  version: string,
): IntervalHistogram {
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
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
      src.pullWriteStats();
      return [...src.rows].map(([k, v]) => {
        const [table = '', source = ''] = k.split('/');
        return [{ table, source }, v] as [Attributes, number];
      });
    },
  );
  counter(METRIC_BRIDGE_INGEST_ERRORS, 'Ingest problems recorded by this process, by reason', () => {
    src.pullWriteStats();
    return [...src.problems].map(([reason, v]) => [{ reason }, v] as [Attributes, number]);
  });
  gauge(
    METRIC_BRIDGE_WATCH_LAG,
    'Now minus the newest source change seen (time() - this = when that change was seen)',
    () => one(src.watchLag()),
    's',
  );
  gauge(
    METRIC_BRIDGE_LAST_INGEST,
    'Unix time of the last successful ingest commit',
    () => one(src.lastIngest()),
    's',
  );
  gauge(METRIC_BRIDGE_EXPORT_BACKLOG, 'Complete exchanges not yet exported as traces (export ledger)', () =>
    one(src.self.backlog),
  );
  counter(METRIC_BRIDGE_SPANS_EXPORTED, 'Spans acknowledged by the OTLP collector (export ledger)', () =>
    one(src.self.spansExported),
  );
  counter(
    METRIC_BRIDGE_SPANS_FAILED,
    'Spans in export attempts the collector did not acknowledge (export ledger)',
    () => one(src.self.spansFailed),
  );
  gauge(METRIC_BRIDGE_DB_SIZE, 'DuckDB store file size (with its WAL)', () => one(src.dbSize()), 'By');
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
      const v = loopDelay.percentile(99) / 1e9;
      loopDelay.reset();
      return one(Number.isFinite(v) ? v : 0);
    },
    's',
  );
  gauge(METRIC_BRIDGE_BUILD_INFO, 'Build information (always 1)', () => [
    [{ version, node_version: process.version }, 1],
  ]);
  gauge(METRIC_BRIDGE_HEALTH_STATUS, 'Health check result (1 pass, 0 fail)', () =>
    [...src.health.values()].map((h) => [{ check: h.check }, h.ok ? 1 : 0] as [Attributes, number]),
  );
  gauge(METRIC_BRIDGE_HEALTH_VALUE, 'The value a health check compared with its threshold', () =>
    [...src.health.values()]
      .filter((h) => h.value != null && Number.isFinite(h.value))
      .map((h) => [{ check: h.check }, h.value as number] as [Attributes, number]),
  );
  return loopDelay;
}

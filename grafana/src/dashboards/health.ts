/** Bridge health and data quality: up, health checks, ingest lag and errors, export backlog, DuckDB size, API latency. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { baseDashboard, prom, promInstant } from '../common.ts';
import { row, stat, table, timeseries } from '../panels.ts';

export function healthDashboard(): Dashboard {
  return baseDashboard(
    'ocbridge-health',
    'OpenCode · Bridge health and data quality',
    'Is the bridge up, keeping up with OpenCode, exporting traces, and answering the API quickly.',
  )
    .withRow(row(400, 'Status'))
    .withPanel(stat({ id: 1, title: 'Bridge up' }, [promInstant('A', 'min(up{job="opencode-bridge"})')]))
    .withPanel(
      stat({ id: 2, title: 'Failing health checks' }, [
        promInstant('A', 'count(opencode_bridge_health_check_status == 0) or vector(0)'),
      ]),
    )
    .withPanel(
      stat({ id: 3, title: 'Export backlog (exchanges)' }, [
        promInstant('A', 'sum(opencode_bridge_export_backlog_exchanges)'),
      ]),
    )
    .withPanel(
      stat({ id: 4, title: 'DuckDB size', unit: 'bytes' }, [
        promInstant('A', 'sum(opencode_bridge_db_size_bytes)'),
      ]),
    )
    .withPanel(
      table({ id: 5, title: 'Health checks (1 = pass, 0 = fail)', w: 12, h: 8 }, [
        promInstant('A', 'max by (check) (opencode_bridge_health_check_status)', '{{check}}'),
        promInstant('B', 'max by (check) (opencode_bridge_health_check_value)', '{{check}}'),
      ]).withTransformation({ id: 'merge', options: {} }),
    )
    .withPanel(
      table({ id: 6, title: 'Build', w: 12, h: 8 }, [
        promInstant('A', 'max by (instance, version, node_version) (opencode_bridge_build_info)'),
      ]),
    )
    .withRow(row(401, 'Ingest'))
    .withPanel(
      timeseries({ id: 7, title: 'Ingest lag', unit: 's', w: 8 }, [
        prom('A', 'max(opencode_bridge_watch_lag_seconds)', 'since newest source change'),
        prom('B', 'time() - max(opencode_bridge_last_ingest_timestamp_seconds)', 'since last ingest commit'),
      ]),
    )
    .withPanel(
      timeseries({ id: 8, title: 'Rows ingested by table and source (per second)', stack: true, w: 8 }, [
        prom(
          'A',
          'sum by (table, source) (rate(opencode_bridge_rows_ingested_total[$__rate_interval]))',
          '{{table}} ({{source}})',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 9, title: 'Ingest errors by reason', stack: true, w: 8 }, [
        prom(
          'A',
          'sum by (reason) (increase(opencode_bridge_ingest_errors_total[$__rate_interval]))',
          '{{reason}}',
        ),
      ]),
    )
    .withRow(row(402, 'Export and storage'))
    .withPanel(
      timeseries({ id: 10, title: 'Export backlog (exchanges)', w: 8 }, [
        prom('A', 'sum(opencode_bridge_export_backlog_exchanges)', 'backlog'),
      ]),
    )
    .withPanel(
      timeseries({ id: 11, title: 'Spans exported and failed (per second)', w: 8 }, [
        prom('A', 'sum(rate(opencode_bridge_spans_exported_total[$__rate_interval]))', 'exported'),
        prom('B', 'sum(rate(opencode_bridge_spans_failed_total[$__rate_interval]))', 'failed'),
      ]),
    )
    .withPanel(
      timeseries({ id: 12, title: 'DuckDB size', unit: 'bytes', w: 8 }, [
        prom('A', 'sum(opencode_bridge_db_size_bytes)', 'store'),
      ]),
    )
    .withRow(row(403, 'API and process'))
    .withPanel(
      timeseries({ id: 13, title: 'API latency p95 by route', unit: 's', w: 12 }, [
        prom(
          'A',
          'histogram_quantile(0.95, sum by (le, route) (rate(opencode_bridge_http_request_duration_seconds_bucket[$__rate_interval])))',
          '{{route}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 14, title: 'API requests by route and status (per second)', w: 12 }, [
        prom(
          'A',
          'sum by (route, status) (rate(opencode_bridge_http_request_duration_seconds_count[$__rate_interval]))',
          '{{route}} {{status}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 15, title: 'Resident memory', unit: 'bytes', w: 8 }, [
        prom('A', 'max by (instance) (opencode_bridge_process_resident_memory_bytes)', '{{instance}}'),
      ]),
    )
    .withPanel(
      timeseries({ id: 16, title: 'CPU (cores)', w: 8 }, [
        prom(
          'A',
          'sum by (instance) (rate(opencode_bridge_process_cpu_seconds_total[$__rate_interval]))',
          '{{instance}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 17, title: 'Event loop lag', unit: 's', w: 8 }, [
        prom('A', 'max by (instance) (opencode_bridge_eventloop_lag_seconds)', '{{instance}}'),
      ]),
    )
    .build();
}

/** Tools and performance: tool calls, error rate and latency by tool, LLM call duration, slowest exchanges. */
import { TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as TempoQuery } from '@grafana/grafana-foundation-sdk/tempo';
import { baseDashboard, bridgeUrlVariable, LLM_VARS, prom, sel, traceLinks, variables } from '../common.ts';
import { BRIDGE_API, TEMPO } from '../datasources.ts';
import { InfinityQueryBuilder } from '../infinity.ts';
import { row, table, timeseries } from '../panels.ts';

const finished = 'opencode_tool_calls_total{status=~"completed|error"}';
const toolQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le, tool) (rate(opencode_tool_duration_seconds_bucket[$__rate_interval])))`;
const chatQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le, gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_bucket{gen_ai_operation_name="chat"}[$__rate_interval])))`;

export function toolsDashboard(): Dashboard {
  return baseDashboard(
    'ocbridge-tools',
    'OpenCode · Tools and performance',
    'Tool calls, tool failures and latency, LLM call duration; slowest exchanges from Tempo.',
  )
    .variables([...variables(), bridgeUrlVariable()])
    .withRow(row(200, 'Live (Prometheus)'))
    .withPanel(
      timeseries({ id: 1, title: 'Tool calls by tool (per minute)', stack: true }, [
        prom('A', `sum by (tool) (rate(${finished}[$__rate_interval])) * 60`, '{{tool}}'),
      ]),
    )
    .withPanel(
      timeseries({ id: 2, title: 'Tool error rate by tool', unit: 'percentunit' }, [
        prom(
          'A',
          `sum by (tool) (rate(opencode_tool_calls_total{status="error"}[$__rate_interval])) / sum by (tool) (rate(${finished}[$__rate_interval]))`,
          '{{tool}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 3, title: 'Tool latency p50 / p95 / p99 by tool', unit: 's', w: 24, h: 9 }, [
        prom('A', toolQuantile(0.5), '{{tool}} p50'),
        prom('B', toolQuantile(0.95), '{{tool}} p95'),
        prom('C', toolQuantile(0.99), '{{tool}} p99'),
      ]),
    )
    .withPanel(
      timeseries({ id: 4, title: 'LLM call duration by model (p50, p95)', unit: 's' }, [
        prom('A', chatQuantile(0.5), '{{gen_ai_request_model}} p50'),
        prom('B', chatQuantile(0.95), '{{gen_ai_request_model}} p95'),
      ]),
    )
    .withPanel(
      timeseries({ id: 5, title: 'Tokens per LLM call (median, by token type)' }, [
        prom(
          'A',
          'histogram_quantile(0.5, sum by (le, gen_ai_token_type) (rate(gen_ai_client_token_usage_bucket[$__rate_interval])))',
          '{{gen_ai_token_type}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 6, title: 'LLM calls by model and status (per minute)', w: 24 }, [
        prom(
          'A',
          `sum by (model, status) (rate(opencode_llm_calls_total${sel(LLM_VARS)}[$__rate_interval])) * 60`,
          '{{model}} {{status}}',
        ),
      ]),
    )
    .withRow(row(201, 'History'))
    .withPanel(
      table({ id: 7, title: 'Tools (history)', ds: BRIDGE_API, h: 10 }, [
        new InfinityQueryBuilder('/api/tools')
          .refId('A')
          .timeRange()
          .column('tool')
          .column('calls', 'number')
          .column('errors', 'number')
          .column('error_rate', 'number')
          .column('p50_ms', 'number')
          .column('p95_ms', 'number')
          .column('p99_ms', 'number'),
      ])
        .overrideByName('error_rate', [{ id: 'unit', value: 'percentunit' }])
        .overrideByRegexp('p\\d+_ms', [{ id: 'unit', value: 'ms' }])
        .sortBy([new TableSortByFieldStateBuilder().displayName('calls').desc(true)]),
    )
    .withPanel(
      table(
        {
          id: 8,
          title: 'Slowest exchanges (Tempo)',
          description: 'Exchange root spans (one trace per exchange), longest first.',
          ds: TEMPO,
          w: 12,
          h: 10,
        },
        [
          new TempoQuery()
            .refId('A')
            .datasource(TEMPO)
            .queryType('traceql')
            .query(
              '{ span.opencode.exchange.id != nil } | select(span.gen_ai.request.model, span.opencode.agent)',
            )
            .limit(50),
        ],
      ).sortBy([new TableSortByFieldStateBuilder().displayName('Duration').desc(true)]),
    )
    .withPanel(
      table({ id: 9, title: 'Longest sessions (history)', ds: BRIDGE_API, w: 12, h: 10 }, [
        new InfinityQueryBuilder('/api/sessions')
          .refId('A')
          .param('sort', 'duration_ms')
          .param('limit', '50')
          .timeRange()
          .column('started_at', 'timestamp')
          .column('title')
          .column('agent')
          .column('model_id')
          .column('duration_ms', 'number')
          .column('exchange_count', 'number')
          .column('session_id')
          .column('trace_id'),
      ])
        .overrideByName('duration_ms', [{ id: 'unit', value: 'ms' }])
        .overrideByName('trace_id', traceLinks())
        .sortBy([new TableSortByFieldStateBuilder().displayName('duration_ms').desc(true)]),
    )
    .build();
}

/** Errors: by category over time, by provider and model, retries, rate limits, examples from the API. */
import { TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { baseDashboard, ERROR_VARS, LLM_VARS, prom, promInstant, sel, variables } from '../common.ts';
import { BRIDGE_API } from '../datasources.ts';
import { InfinityQueryBuilder } from '../infinity.ts';
import { bargauge, row, table, timeseries } from '../panels.ts';

const errors = (...extra: string[]) => `opencode_errors_total${sel(ERROR_VARS, ...extra)}`;

export function errorsDashboard(): Dashboard {
  return baseDashboard(
    'ocbridge-errors',
    'OpenCode · Errors',
    'Errors by category (the error taxonomy), source, provider and model; retries and rate limits; examples.',
  )
    .variables(variables())
    .withRow(row(300, 'Live (Prometheus)'))
    .withPanel(
      timeseries({ id: 1, title: 'Errors by category (per minute)', stack: true }, [
        prom('A', `sum by (category) (rate(${errors()}[$__rate_interval])) * 60`, '{{category}}'),
      ]),
    )
    .withPanel(
      timeseries({ id: 2, title: 'Errors by source (per minute)', stack: true }, [
        prom('A', `sum by (source) (rate(${errors()}[$__rate_interval])) * 60`, '{{source}}'),
      ]),
    )
    .withPanel(
      bargauge({ id: 3, title: 'Errors by provider and model in range', w: 12 }, [
        promInstant(
          'A',
          `sort_desc(sum by (provider, model) (increase(${errors()}[$__range])))`,
          '{{provider}} / {{model}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 4, title: 'LLM call error ratio by model', unit: 'percentunit' }, [
        prom(
          'A',
          `sum by (model) (rate(opencode_llm_calls_total${sel(LLM_VARS, 'status="error"')}[$__rate_interval])) / sum by (model) (rate(opencode_llm_calls_total${sel(LLM_VARS)}[$__rate_interval]))`,
          '{{model}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 5, title: 'Retries by category (per minute)', stack: true, w: 8 }, [
        prom(
          'A',
          `sum by (category) (rate(${errors('source="retry"')}[$__rate_interval])) * 60`,
          '{{category}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 6, title: 'Rate limits by provider (per minute)', w: 8 }, [
        prom(
          'A',
          `sum by (provider) (rate(${errors('category="rate_limit"')}[$__rate_interval])) * 60`,
          '{{provider}}',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 7, title: 'Failed tool calls by tool (per minute)', w: 8 }, [
        prom(
          'A',
          'sum by (tool) (rate(opencode_tool_calls_total{status="error"}[$__rate_interval])) * 60',
          '{{tool}}',
        ),
      ]),
    )
    .withRow(row(301, 'History (bridge API)'))
    .withPanel(
      table({ id: 8, title: 'Errors with examples (history)', ds: BRIDGE_API, h: 12 }, [
        new InfinityQueryBuilder('/api/errors')
          .refId('A')
          .timeRange()
          .column('category')
          .column('source')
          .column('provider_id')
          .column('model_id')
          .column('count', 'number')
          .column('last_seen', 'timestamp')
          .column('example'),
      ]).sortBy([new TableSortByFieldStateBuilder().displayName('count').desc(true)]),
    )
    .build();
}

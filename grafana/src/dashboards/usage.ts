/** Usage and cost: tokens by type, recorded and computed cost by model/provider/agent/project, history from the API. */
import { TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  baseDashboard,
  EXCHANGE_VARS,
  LLM_VARS,
  prom,
  promInstant,
  sel,
  traceLinks,
  USAGE_VARS,
  variables,
} from '../common.ts';
import { BRIDGE_API } from '../datasources.ts';
import { InfinityQueryBuilder } from '../infinity.ts';
import { row, stat, table, timeseries } from '../panels.ts';

const cost = (...extra: string[]) => `opencode_cost_usd_total${sel(USAGE_VARS, ...extra)}`;
const tokens = (...extra: string[]) => `opencode_tokens_total${sel(USAGE_VARS, ...extra)}`;
const cacheRatio = (range: string) =>
  `sum(rate(${tokens('type="cache_read"')}[${range}])) / sum(rate(${tokens('type=~"input|cache_read|cache_write"')}[${range}]))`;

/** recorded and computed cost per hour, summed by one label */
function costBy(id: number, label: string) {
  return timeseries({ id, title: `Cost by ${label} (USD/hour)`, unit: 'currencyUSD', w: 12 }, [
    prom(
      'A',
      `sum by (${label}) (rate(${cost('kind="recorded"')}[$__rate_interval])) * 3600`,
      `{{${label}}} recorded`,
    ),
    prom(
      'B',
      `sum by (${label}) (rate(${cost('kind="computed"')}[$__rate_interval])) * 3600`,
      `{{${label}}} computed`,
    ),
  ]);
}

function usageHistory(id: number, groupBy: string) {
  return table({ id, title: `Usage by ${groupBy} (history)`, ds: BRIDGE_API, w: 12, h: 8 }, [
    new InfinityQueryBuilder('/api/usage')
      .refId('A')
      .param('group_by', groupBy)
      .timeRange()
      .column('bucket', 'string', groupBy)
      .column('cost_usd', 'number')
      .column('computed_cost_usd', 'number')
      .column('input_tokens', 'number')
      .column('output_tokens', 'number')
      .column('reasoning_tokens', 'number')
      .column('cache_read_tokens', 'number')
      .column('cache_write_tokens', 'number')
      .column('exchanges', 'number'),
  ])
    .overrideByRegexp('.*cost_usd', [{ id: 'unit', value: 'currencyUSD' }])
    .sortBy([new TableSortByFieldStateBuilder().displayName('cost_usd').desc(true)]);
}

export function usageDashboard(): Dashboard {
  return baseDashboard(
    'ocbridge-usage',
    'OpenCode · Usage and cost',
    'Tokens and cost of OpenCode work: live from Prometheus (ocbridge /metrics), history from the bridge API.',
  )
    .variables(variables())
    .withRow(row(100, 'Live (Prometheus)'))
    .withPanel(
      stat({ id: 1, title: 'Recorded cost in range', unit: 'currencyUSD' }, [
        promInstant('A', `sum(increase(${cost('kind="recorded"')}[$__range]))`),
      ]),
    )
    .withPanel(
      stat({ id: 2, title: 'Computed cost in range', unit: 'currencyUSD' }, [
        promInstant('A', `sum(increase(${cost('kind="computed"')}[$__range]))`),
      ]),
    )
    .withPanel(
      stat({ id: 3, title: 'Tokens in range' }, [promInstant('A', `sum(increase(${tokens()}[$__range]))`)]),
    )
    .withPanel(
      stat(
        {
          id: 4,
          title: 'Cache hit ratio in range',
          unit: 'percentunit',
          description: 'cache_read / (input + cache_read + cache_write) tokens',
        },
        [promInstant('A', cacheRatio('$__range'))],
      ),
    )
    .withPanel(
      timeseries({ id: 5, title: 'Tokens by type (per second)', stack: true, w: 12 }, [
        prom('A', `sum by (type) (rate(${tokens()}[$__rate_interval]))`, '{{type}}'),
      ]),
    )
    .withPanel(costBy(6, 'model'))
    .withPanel(costBy(7, 'provider'))
    .withPanel(costBy(8, 'agent'))
    .withPanel(costBy(9, 'project'))
    .withPanel(
      timeseries({ id: 10, title: 'Cost per exchange', unit: 'currencyUSD', w: 12 }, [
        prom(
          'A',
          `sum(increase(${cost('kind="recorded"')}[$__rate_interval])) / sum(increase(opencode_exchanges_total${sel(EXCHANGE_VARS)}[$__rate_interval]))`,
          'recorded',
        ),
        prom(
          'B',
          `sum(increase(${cost('kind="computed"')}[$__rate_interval])) / sum(increase(opencode_exchanges_total${sel(EXCHANGE_VARS)}[$__rate_interval]))`,
          'computed',
        ),
      ]),
    )
    .withPanel(
      timeseries({ id: 11, title: 'Cache hit ratio', unit: 'percentunit', w: 12 }, [
        prom('A', cacheRatio('$__rate_interval'), 'cache hit ratio'),
      ]),
    )
    .withPanel(
      timeseries({ id: 12, title: 'LLM calls and exchanges (per minute)', w: 12 }, [
        prom(
          'A',
          `sum by (status) (rate(opencode_llm_calls_total${sel(LLM_VARS)}[$__rate_interval])) * 60`,
          'LLM calls {{status}}',
        ),
        prom(
          'B',
          `sum by (status) (rate(opencode_exchanges_total${sel(EXCHANGE_VARS)}[$__rate_interval])) * 60`,
          'exchanges {{status}}',
        ),
      ]),
    )
    .withRow(row(101, 'History (bridge API)'))
    .withPanel(
      timeseries({ id: 13, title: 'Daily cost (history)', unit: 'currencyUSD', ds: BRIDGE_API, w: 24 }, [
        new InfinityQueryBuilder('/api/usage')
          .refId('A')
          .param('group_by', 'day')
          .timeRange()
          .column('bucket', 'timestamp', 'day')
          .column('cost_usd', 'number', 'recorded')
          .column('computed_cost_usd', 'number', 'computed'),
      ]),
    )
    .withPanel(usageHistory(14, 'model'))
    .withPanel(usageHistory(15, 'provider'))
    .withPanel(usageHistory(16, 'agent'))
    .withPanel(usageHistory(17, 'project'))
    .withPanel(
      table(
        {
          id: 18,
          title: 'Top sessions by cost',
          description: 'Click a trace ID to open the trace in Tempo or Jaeger.',
          ds: BRIDGE_API,
          h: 10,
        },
        [
          new InfinityQueryBuilder('/api/sessions')
            .refId('A')
            .timeRange()
            .column('started_at', 'timestamp')
            .column('title')
            .column('project')
            .column('agent')
            .column('model_id')
            .column('provider_id')
            .column('exchange_count', 'number')
            .column('input_tokens', 'number')
            .column('output_tokens', 'number')
            .column('cost_usd', 'number')
            .column('computed_cost_usd', 'number')
            .column('error_count', 'number')
            .column('session_id')
            .column('trace_id'),
        ],
      )
        .overrideByRegexp('.*cost_usd', [{ id: 'unit', value: 'currencyUSD' }])
        .overrideByName('trace_id', traceLinks())
        .sortBy([new TableSortByFieldStateBuilder().displayName('cost_usd').desc(true)]),
    )
    .build();
}

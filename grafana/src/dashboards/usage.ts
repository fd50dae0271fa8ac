/**
 * Usage and cost, the home dashboard: history first, so a fresh install with a year of OpenCode work
 * shows numbers before anybody works. The range's totals and daily series come from the bridge API
 * (Infinity: /api/summary, /api/usage, /api/sessions, for the dashboard's time range); the all-time
 * totals come from Prometheus, whose counters carry the whole history (no plugin needed). What happens
 * now (rate()/increase()) is on the Live usage dashboard (./live.ts). docs/dashboards.md says why.
 */
import { TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  baseDashboard,
  bridgeUrlVariable,
  promInstant,
  sel,
  traceLinks,
  USAGE_VARS,
  variables,
} from '../common.ts';
import { BRIDGE_API } from '../datasources.ts';
import { InfinityQueryBuilder } from '../infinity.ts';
import { bargauge, row, stat, table, timeseries } from '../panels.ts';

const cost = (...extra: string[]) => `opencode_cost_usd_total${sel(USAGE_VARS, ...extra)}`;
const tokens = (...extra: string[]) => `opencode_tokens_total${sel(USAGE_VARS, ...extra)}`;

/** one column of /api/summary for the dashboard's range, as a stat */
function summaryStat(id: number, title: string, column: string, unit = 'short', description?: string) {
  return stat({ id, title, unit, ds: BRIDGE_API, w: 4, description }, [
    new InfinityQueryBuilder('/api/summary').refId('A').timeRange().column(column, 'number', title),
  ]);
}

/** all-time recorded cost by one label (Prometheus counters hold the whole history) */
function allTimeBy(id: number, label: string) {
  return bargauge({ id, title: `Recorded cost by ${label}, all time`, unit: 'currencyUSD', w: 6, h: 8 }, [
    promInstant('A', `sort_desc(sum by (${label}) (${cost('kind="recorded"')}))`, `{{${label}}}`),
  ]);
}

function usageHistory(id: number, groupBy: string) {
  return table({ id, title: `Usage by ${groupBy} (range)`, ds: BRIDGE_API, w: 12, h: 8 }, [
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
    'Where tokens and money went: the range from the bridge API (Infinity), all-time totals from Prometheus. Live rates: OpenCode · Live usage.',
  )
    .time({ from: 'now-1y', to: 'now' })
    .variables([...variables(), bridgeUrlVariable()])
    .withRow(row(100, 'The range (bridge API)'))
    .withPanel(
      summaryStat(
        1,
        'Recorded cost',
        'cost_usd',
        'currencyUSD',
        'as OpenCode recorded it (0 for subscriptions)',
      ),
    )
    .withPanel(summaryStat(2, 'Computed cost', 'computed_cost_usd', 'currencyUSD', 'from the price list'))
    .withPanel(
      summaryStat(3, 'Tokens', 'tokens', 'short', 'input + output + reasoning + cache read + cache write'),
    )
    .withPanel(
      summaryStat(
        4,
        'Cache hit ratio',
        'cache_hit_ratio',
        'percentunit',
        'cache_read / (input + cache_read + cache_write)',
      ),
    )
    .withPanel(summaryStat(5, 'Sessions', 'sessions', 'short', 'active in the range'))
    .withPanel(summaryStat(6, 'Tool calls', 'tool_calls'))
    .withPanel(
      timeseries({ id: 7, title: 'Cost per day', unit: 'currencyUSD', ds: BRIDGE_API, w: 12 }, [
        new InfinityQueryBuilder('/api/usage')
          .refId('A')
          .param('group_by', 'day')
          .timeRange()
          .column('bucket', 'timestamp', 'day')
          .column('cost_usd', 'number', 'recorded')
          .column('computed_cost_usd', 'number', 'computed'),
      ]),
    )
    .withPanel(
      timeseries({ id: 8, title: 'Tokens per day by type', ds: BRIDGE_API, w: 12, stack: true }, [
        new InfinityQueryBuilder('/api/usage')
          .refId('A')
          .param('group_by', 'day')
          .timeRange()
          .column('bucket', 'timestamp', 'day')
          .column('input_tokens', 'number', 'input')
          .column('output_tokens', 'number', 'output')
          .column('reasoning_tokens', 'number', 'reasoning')
          .column('cache_read_tokens', 'number', 'cache read')
          .column('cache_write_tokens', 'number', 'cache write'),
      ]),
    )
    .withRow(row(101, 'All time (Prometheus: the counters carry the whole history)'))
    .withPanel(
      stat({ id: 9, title: 'Recorded cost, all time', unit: 'currencyUSD', w: 6 }, [
        promInstant('A', `sum(${cost('kind="recorded"')})`),
      ]),
    )
    .withPanel(
      stat({ id: 10, title: 'Computed cost, all time', unit: 'currencyUSD', w: 6 }, [
        promInstant('A', `sum(${cost('kind="computed"')})`),
      ]),
    )
    .withPanel(stat({ id: 11, title: 'Tokens, all time', w: 6 }, [promInstant('A', `sum(${tokens()})`)]))
    .withPanel(
      stat({ id: 12, title: 'Cache hit ratio, all time', unit: 'percentunit', w: 6 }, [
        promInstant(
          'A',
          `sum(${tokens('type="cache_read"')}) / sum(${tokens('type=~"input|cache_read|cache_write"')})`,
        ),
      ]),
    )
    .withPanel(allTimeBy(13, 'model'))
    .withPanel(allTimeBy(14, 'provider'))
    .withPanel(allTimeBy(15, 'agent'))
    .withPanel(allTimeBy(16, 'project'))
    .withRow(row(102, 'Details of the range (bridge API)'))
    .withPanel(usageHistory(17, 'model'))
    .withPanel(usageHistory(18, 'provider'))
    .withPanel(usageHistory(19, 'agent'))
    .withPanel(usageHistory(20, 'project'))
    .withPanel(
      table(
        {
          id: 21,
          title: 'Top sessions by cost',
          description:
            'Click a trace ID to open the trace in Tempo or Jaeger, or the session on the bridge’s own page.',
          ds: BRIDGE_API,
          h: 10,
        },
        [
          new InfinityQueryBuilder('/api/sessions')
            .refId('A')
            .param('sort', 'cost_usd')
            .param('limit', '50')
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

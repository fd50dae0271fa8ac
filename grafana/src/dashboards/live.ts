/**
 * Live usage: what OpenCode does now, from Prometheus rates of the bridge's counters (rate()/increase():
 * zero while nobody works; the history is on the home dashboard, ./usage.ts).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  baseDashboard,
  EXCHANGE_VARS,
  LLM_VARS,
  prom,
  promInstant,
  sel,
  USAGE_VARS,
  variables,
} from '../common.ts';
import { row, stat, timeseries } from '../panels.ts';

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

export function liveDashboard(): Dashboard {
  return baseDashboard(
    'ocbridge-live',
    'OpenCode · Live usage',
    'What OpenCode does now: rates and increases of the bridge counters (Prometheus). History: the Usage and cost dashboard.',
  )
    .time({ from: 'now-6h', to: 'now' })
    .variables(variables())
    .withRow(row(100, 'Live (Prometheus: rate and increase, zero while idle)'))
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
    .build();
}

/** Shared pieces of the generated dashboards: template variables, label filters, query helpers, trace links. */
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  type DynamicConfigValue,
  QueryVariableBuilder,
  TextBoxVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PromQuery, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { JAEGER, PROMETHEUS, TEMPO } from './datasources.ts';

/** the template variables (label values of opencode_tokens_total); "All" is the regex `.*` */
export const VARIABLES = ['project', 'model', 'agent', 'provider'] as const;
export type VariableName = (typeof VARIABLES)[number];

export function variables(): QueryVariableBuilder[] {
  return VARIABLES.map((name) =>
    new QueryVariableBuilder(name)
      .label(name[0]!.toUpperCase() + name.slice(1))
      .datasource(PROMETHEUS)
      .query({ query: `label_values(opencode_tokens_total, ${name})`, refId: `var-${name}` })
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*')
      .current({ selected: true, text: ['All'], value: ['$__all'] }),
  );
}

/** `{a=~"$a",b=~"$b"}`-style matchers for the given variables, plus extra matchers */
export function sel(vars: readonly VariableName[], ...extra: string[]): string {
  return `{${[...extra, ...vars.map((v) => `${v}=~"$${v}"`)].join(',')}}`;
}

/** the label filters each usage metric supports (docs/metrics.md) */
export const USAGE_VARS = ['project', 'model', 'agent', 'provider'] as const; // opencode_tokens_total, opencode_cost_usd_total
export const LLM_VARS = ['model', 'agent', 'provider'] as const; // opencode_llm_calls_total
export const ERROR_VARS = ['model', 'provider'] as const; // opencode_errors_total
export const EXCHANGE_VARS = ['project', 'agent'] as const; // opencode_exchanges_total

export function prom(refId: string, expr: string, legend?: string): PromQuery {
  const q = new PromQuery().refId(refId).datasource(PROMETHEUS).expr(expr);
  return legend === undefined ? q : q.legendFormat(legend);
}

/** an instant query (stat, table, bar gauge panels) */
export function promInstant(refId: string, expr: string, legend?: string): PromQuery {
  return prom(refId, expr, legend).instant().format(PromQueryFormat.Table);
}

function exploreUrl(ds: { type?: string; uid?: string }, query: Record<string, unknown>): string {
  const PLACEHOLDER = 'TRACE_ID_PLACEHOLDER';
  const panes = {
    trace: {
      datasource: ds.uid,
      queries: [{ refId: 'A', datasource: ds, ...query }],
      range: { from: 'now-7d', to: 'now' },
    },
  };
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's data-link variable, interpolated by Grafana
  const encoded = encodeURIComponent(JSON.stringify(panes)).replace(PLACEHOLDER, '${__value.raw}');
  return `/explore?schemaVersion=1&orgId=1&panes=${encoded}`;
}

/**
 * The bridge's address as the viewer's browser reaches it (its web view's session pages): a textbox
 * variable, default the compose stack's published port.
 */
export function bridgeUrlVariable(): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder('bridge_url')
    .label('Bridge URL')
    .description("the bridge's address as your browser reaches it (session pages of its web view)")
    .defaultValue('http://127.0.0.1:9464')
    .current({ selected: true, text: 'http://127.0.0.1:9464', value: 'http://127.0.0.1:9464' });
}

/**
 * field-override properties that make a trace ID column open the trace in Tempo and Jaeger, and the
 * session on the bridge's own page (the table needs a `session_id` column and `bridgeUrlVariable`)
 */
export function traceLinks(): DynamicConfigValue[] {
  return [
    {
      id: 'links',
      value: [
        {
          title: 'Open the session in the bridge',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variables, interpolated by Grafana
          url: '${bridge_url}/sessions/${__data.fields.session_id}',
          targetBlank: true,
        },
        {
          title: 'Open trace in Tempo',
          url: exploreUrl(TEMPO, { queryType: 'traceql', query: 'TRACE_ID_PLACEHOLDER' }),
          targetBlank: true,
        },
        {
          title: 'Open trace in Jaeger',
          url: exploreUrl(JAEGER, { query: 'TRACE_ID_PLACEHOLDER' }),
          targetBlank: true,
        },
      ],
    },
  ];
}

/** the frame every dashboard shares: uid, tags, time, refresh, links to the other dashboards */
export function baseDashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['opencode', 'ocbridge', 'generated'])
    .editable()
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .link(
      new DashboardLinkBuilder('OpenCode dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags(['opencode'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}

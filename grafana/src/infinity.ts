/**
 * A query builder for the Infinity datasource (yesoreyeram-infinity-datasource), which the foundation
 * SDK does not ship. It builds the plugin's JSON/URL query against the bridge API: the URL is relative
 * to the datasource's base URL, rows are taken from `data` (the API's list envelope).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { BRIDGE_API } from './datasources.ts';

export type InfinityColumnType = 'string' | 'number' | 'timestamp' | 'timestamp_epoch' | 'boolean';

export interface InfinityColumn {
  selector: string;
  text: string;
  type: InfinityColumnType;
}

export interface InfinityQuery extends cog.Dataquery {
  refId: string;
  datasource: typeof BRIDGE_API;
  type: 'json';
  source: 'url';
  parser: 'backend';
  format: 'table' | 'timeseries';
  url: string;
  url_options: { method: 'GET'; data: string; params: { key: string; value: string }[] };
  root_selector: string;
  columns: InfinityColumn[];
}

export class InfinityQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly q: Omit<InfinityQuery, '_implementsDataqueryVariant'>;

  constructor(path: string) {
    this.q = {
      refId: 'A',
      datasource: BRIDGE_API,
      type: 'json',
      source: 'url',
      parser: 'backend',
      format: 'table',
      url: path,
      url_options: { method: 'GET', data: '', params: [] },
      root_selector: 'data',
      columns: [],
    };
  }

  refId(refId: string): this {
    this.q.refId = refId;
    return this;
  }

  format(format: InfinityQuery['format']): this {
    this.q.format = format;
    return this;
  }

  /** a query parameter; Grafana interpolates variables such as `${__from}` */
  param(key: string, value: string): this {
    this.q.url_options.params.push({ key, value });
    return this;
  }

  /** the dashboard time range as epoch ms (`from`/`to`, which the API accepts) */
  timeRange(): this {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, interpolated by Grafana
    return this.param('from', '${__from}').param('to', '${__to}');
  }

  column(selector: string, type: InfinityColumnType = 'string', text = selector): this {
    this.q.columns.push({ selector, text, type });
    return this;
  }

  build(): cog.Dataquery {
    return { ...structuredClone(this.q), _implementsDataqueryVariant() {} };
  }
}

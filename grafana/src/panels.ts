/** Small panel factories with the conventions of these dashboards: explicit id, size, datasource, refIds. */

import { PanelBuilder as BarGaugePanel } from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { StackingConfigBuilder, StackingMode } from '@grafana/grafana-foundation-sdk/common';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PROMETHEUS } from './datasources.ts';

export interface PanelOpts {
  id: number;
  title: string;
  description?: string;
  unit?: string;
  w?: number;
  h?: number;
  ds?: DataSourceRef;
}

export function row(id: number, title: string): RowBuilder {
  return new RowBuilder(title).id(id);
}

export function timeseries(o: PanelOpts & { stack?: boolean }, targets: cog.Builder<cog.Dataquery>[]) {
  const p = new TimeseriesPanel()
    .id(o.id)
    .title(o.title)
    .datasource(o.ds ?? PROMETHEUS)
    .span(o.w ?? 12)
    .height(o.h ?? 8)
    .unit(o.unit ?? 'short')
    .fillOpacity(o.stack ? 40 : 10)
    .targets(targets);
  if (o.description) p.description(o.description);
  if (o.stack) p.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  return p;
}

export function stat(o: PanelOpts, targets: cog.Builder<cog.Dataquery>[]) {
  const p = new StatPanel()
    .id(o.id)
    .title(o.title)
    .datasource(o.ds ?? PROMETHEUS)
    .span(o.w ?? 6)
    .height(o.h ?? 4)
    .unit(o.unit ?? 'short')
    .targets(targets);
  if (o.description) p.description(o.description);
  return p;
}

export function table(o: PanelOpts, targets: cog.Builder<cog.Dataquery>[]) {
  const p = new TablePanel()
    .id(o.id)
    .title(o.title)
    .datasource(o.ds ?? PROMETHEUS)
    .span(o.w ?? 24)
    .height(o.h ?? 9)
    .filterable(true)
    .targets(targets);
  if (o.unit) p.unit(o.unit);
  if (o.description) p.description(o.description);
  return p;
}

export function bargauge(o: PanelOpts, targets: cog.Builder<cog.Dataquery>[]) {
  const p = new BarGaugePanel()
    .id(o.id)
    .title(o.title)
    .datasource(o.ds ?? PROMETHEUS)
    .span(o.w ?? 8)
    .height(o.h ?? 8)
    .unit(o.unit ?? 'short')
    .targets(targets);
  if (o.description) p.description(o.description);
  return p;
}

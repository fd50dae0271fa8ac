/** Reads the committed dashboards and lists their queries, for the schema and end-to-end tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_DIR = join(import.meta.dirname, '..', '..', 'grafana', 'dashboards');

export interface DsRef {
  type?: string;
  uid?: string;
}
export interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  datasource?: DsRef;
  targets?: (Record<string, unknown> & { refId?: string; datasource?: DsRef })[];
  panels?: PanelJson[];
}
export interface DashboardJson {
  uid: string;
  title: string;
  panels?: PanelJson[];
  templating?: { list?: { name: string; datasource?: DsRef }[] };
}

export function loadDashboards(): Record<string, DashboardJson> {
  return Object.fromEntries(
    readdirSync(DASHBOARD_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => [f, JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as DashboardJson]),
  );
}

export function allPanels(d: DashboardJson): PanelJson[] {
  const out: PanelJson[] = [];
  const walk = (ps: PanelJson[] | undefined) => {
    for (const p of ps ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

export interface PanelQuery {
  file: string;
  panel: PanelJson;
  refId: string;
  datasource: DsRef;
  target: Record<string, unknown>;
}

export function panelQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [file, d] of Object.entries(loadDashboards())) {
    for (const panel of allPanels(d)) {
      for (const t of panel.targets ?? []) {
        out.push({
          file,
          panel,
          refId: String(t.refId),
          datasource: t.datasource ?? panel.datasource ?? {},
          target: t,
        });
      }
    }
  }
  return out;
}

/** Grafana's variables in PromQL, replaced as Grafana would with "All" selected and a 5 minute range */
export function substitutePromql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '5m')
    .replace(/\$\{(\w+)(:\w+)?\}|\$(\w+)/g, '.*');
}

/** the URL an Infinity target calls, relative to the datasource base URL, with Grafana's time range */
export function infinityUrl(
  target: Record<string, unknown>,
  base: string,
  fromMs: number,
  toMs: number,
): string {
  const u = new URL(String(target.url), base);
  const opts = target.url_options as { params?: { key: string; value: string }[] } | undefined;
  for (const { key, value } of opts?.params ?? []) {
    u.searchParams.append(
      key,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
      value.replaceAll('${__from}', String(fromMs)).replaceAll('${__to}', String(toMs)),
    );
  }
  return u.toString();
}

/**
 * Every dashboard, by file name. `npm run dashboards:build` writes them to grafana/dashboards/*.json;
 * test/deploy-config.test.ts checks the committed files equal `renderDashboards()`.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { errorsDashboard } from './dashboards/errors.ts';
import { healthDashboard } from './dashboards/health.ts';
import { liveDashboard } from './dashboards/live.ts';
import { toolsDashboard } from './dashboards/tools.ts';
import { usageDashboard } from './dashboards/usage.ts';
import { BRIDGE_API, JAEGER, PROMETHEUS, TEMPO } from './datasources.ts';

export const DASHBOARDS: Record<string, () => Dashboard> = {
  'usage-and-cost.json': usageDashboard,
  'live-usage.json': liveDashboard,
  'tools-and-performance.json': toolsDashboard,
  'errors.json': errorsDashboard,
  'bridge-health.json': healthDashboard,
};

/**
 * Drops the keys the SDK sets on every variable that @grafana/schema does not declare for query variables
 * (`auto*` belong to interval variables; `definition` is only the editor's display text), so the
 * dashboards validate against the strict schema generated from @grafana/schema.
 */
function normalise(d: Dashboard): Dashboard {
  for (const v of d.templating?.list ?? []) {
    const r = v as unknown as Record<string, unknown>;
    if (v.type !== 'interval') for (const k of ['auto', 'auto_min', 'auto_count', 'definition']) delete r[k];
  }
  return d;
}

/** the file contents: stable JSON (2-space indent, trailing newline) */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(DASHBOARDS).map(([file, make]) => [
      file,
      `${JSON.stringify(normalise(make()), null, 2)}\n`,
    ]),
  );
}

/** The datasources an imported dashboard asks for (Grafana's import form maps each to one of yours). */
const IMPORT_INPUTS = [
  {
    ref: PROMETHEUS,
    name: 'DS_PROMETHEUS',
    label: 'Prometheus (scrapes the bridge /metrics)',
    plugin: 'Prometheus',
  },
  { ref: BRIDGE_API, name: 'DS_OCBRIDGE_API', label: 'Infinity (base URL: the bridge)', plugin: 'Infinity' },
  { ref: TEMPO, name: 'DS_TEMPO', label: 'Tempo (trace links)', plugin: 'Tempo' },
  { ref: JAEGER, name: 'DS_JAEGER', label: 'Jaeger (trace links)', plugin: 'Jaeger' },
] as const;

/**
 * The same dashboards for Grafana's import flow (Dashboards → New → Import) into a Grafana you already
 * run: every provisioned datasource UID becomes `${DS_…}` and `__inputs` declares them, so the import
 * form asks which of your datasources to use (grafana/import/*.json, docs/dashboards.md).
 */
export function renderImportable(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(DASHBOARDS).map(([file, make]) => {
      let text = JSON.stringify(normalise(make()));
      const used = IMPORT_INPUTS.filter((i) => text.includes(i.ref.uid ?? '\0'));
      for (const i of used) text = text.replaceAll(i.ref.uid ?? '', `\${${i.name}}`);
      const dashboard = JSON.parse(text) as Record<string, unknown>;
      const inputs = used.map((i) => ({
        name: i.name,
        label: i.label,
        description: '',
        type: 'datasource',
        pluginId: i.ref.type,
        pluginName: i.plugin,
      }));
      const requires = used.map((i) => ({ type: 'datasource', id: i.ref.type, name: i.plugin, version: '' }));
      return [file, `${JSON.stringify({ __inputs: inputs, __requires: requires, ...dashboard }, null, 2)}\n`];
    }),
  );
}

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

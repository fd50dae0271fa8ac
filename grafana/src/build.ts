/**
 * `npm run dashboards:build`: writes grafana/dashboards/*.json (provisioned, fixed datasource UIDs) and
 * grafana/import/*.json (the same for Grafana's import flow, with `__inputs`) from the TypeScript definitions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDashboards, renderImportable } from './index.ts';

const out = join(import.meta.dirname, '..', 'dashboards');
mkdirSync(out, { recursive: true });
for (const [file, json] of Object.entries(renderDashboards())) {
  writeFileSync(join(out, file), json);
  console.log(`wrote grafana/dashboards/${file}`);
}

const importDir = join(import.meta.dirname, '..', 'import');
mkdirSync(importDir, { recursive: true });
for (const [file, json] of Object.entries(renderImportable())) {
  writeFileSync(join(importDir, file), json);
  console.log(`wrote grafana/import/${file}`);
}

/** `npm run dashboards:build`: writes grafana/dashboards/*.json from the TypeScript definitions. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDashboards } from './index.ts';

const out = join(import.meta.dirname, '..', 'dashboards');
mkdirSync(out, { recursive: true });
for (const [file, json] of Object.entries(renderDashboards())) {
  writeFileSync(join(out, file), json);
  console.log(`wrote grafana/dashboards/${file}`);
}

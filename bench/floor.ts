/**
 * The floor for ingesting a JSON tree: list every file, then readFileSync + JSON.parse each one on one
 * thread (stack-measurements §3a: the fastest plain way in Node). Prints one JSON line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const storage = process.argv[2];
if (!storage) throw new Error('usage: floor.ts <storage dir>');
const t0 = performance.now();
const files: string[] = [];
const walk = (d: string) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.json')) files.push(p);
  }
};
walk(storage);
let bytes = 0;
let bad = 0;
for (const f of files) {
  const s = readFileSync(f, 'utf8');
  bytes += s.length;
  try {
    JSON.parse(s);
  } catch {
    bad++;
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    files: files.length,
    mb: bytes / 1e6,
    bad,
    seconds,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);

/**
 * `npm run bench:ingest [-- --sessions 877]`: full-scale ingest against the floor, in the same run.
 * 1. generates (or reuses) a corpus as a JSON tree and the same sessions as opencode.db (v1 tables);
 * 2. floor: read + JSON.parse every JSON file on one thread (twice: the second pass, page cache warm
 *    as for the ingest that follows, is the floor);
 * 3. full `ocbridge ingest` of the JSON tree (fresh store), its peak RSS, and the ratio to the floor;
 * 4. a no-op re-ingest; 5. the same data from opencode.db, and its no-op re-ingest.
 * Each step runs in its own process, so RSS and timings don't leak between them.
 */
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN_ENV, BIN_NODE_OPTIONS, corpus as cachedCorpus, type Manifest, run } from './common.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '877' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: '.tmp/bench' },
  },
});
const sessions = Number(values.sessions);
const root = join(process.cwd(), values.out ?? '.tmp/bench');
const corpus = (layout: 'json' | 'v1') => cachedCorpus(root, layout, sessions, values.seed ?? '1');

interface IngestOut {
  seconds: number;
  peakRssMb: number;
  tables: Record<string, number>;
  files: { seen: number; unchanged: number; parsed: number };
  dbRowsRead: number;
  written: { inserted: Record<string, number>; replaced: Record<string, number> };
}

function ingest(source: string, db: string): IngestOut & { wall: number } {
  // as `npx ocbridge` runs it: the bin's shebang line carries its Node options
  const r = run(
    [
      ...BIN_NODE_OPTIONS,
      'bin/ocbridge.js',
      'ingest',
      '--source',
      source,
      '--db',
      db,
      '--format',
      'json',
      '--no-progress',
    ],
    BIN_ENV,
  );
  return { ...(JSON.parse(r.out) as IngestOut), wall: r.wall };
}

const json = corpus('json');
const v1 = corpus('v1');
const expectedOf = (m: Manifest) => `${m.totals.sessions}/${m.totals.messages}/${m.totals.parts}`;

// The floor twice: the first pass may read from disk (page cache cold), the second reads from the
// page cache, as the ingest that follows does. The ratio is taken against the warm floor.
type Floor = { files: number; mb: number; seconds: number; peakRssMb: number };
const floorOnce = () =>
  JSON.parse(run(['--import', 'tsx', 'bench/floor.ts', join(json.dir, 'storage')]).out) as Floor;
const firstFloor = floorOnce();
const floor = floorOnce();

// The bin's first start after a source change builds its start-up bundle (src/cli/bundle.mjs); the
// ingests below start like every later start does.
run([...BIN_NODE_OPTIONS, 'bin/ocbridge.js', '--version'], BIN_ENV);

const db = join(root, 'bench-json.duckdb');
rmSync(db, { force: true });
rmSync(`${db}.wal`, { force: true });
const full = ingest(json.dir, db);
const noop = ingest(json.dir, db);

const dbV1 = join(root, 'bench-v1.duckdb');
rmSync(dbV1, { force: true });
rmSync(`${dbV1}.wal`, { force: true });
const fromDb = ingest(v1.dir, dbV1);
const noopDb = ingest(v1.dir, dbV1);
const rowsWritten = (o: IngestOut) =>
  Object.values(o.written.inserted).reduce((a, b) => a + b, 0) +
  Object.values(o.written.replaced).reduce((a, b) => a + b, 0);

const counts = (o: IngestOut) => `${o.tables.sessions}/${o.tables.messages}/${o.tables.parts}`;
const expected = expectedOf(json.manifest);
const expectedV1 = expectedOf(v1.manifest);
const ratio = full.seconds / floor.seconds;
const rows = [
  ['machine', `${cpus().length} cores, node ${process.version}`],
  [
    'corpus',
    `${sessions} sessions, ${floor.files} JSON files, ${floor.mb.toFixed(0)} MB (expected sessions/messages/parts ${expected})`,
  ],
  ['first read of the tree (page cache as found)', `${firstFloor.seconds.toFixed(2)} s  (informational)`],
  [
    'floor: read + JSON.parse, 1 thread, page cache warm',
    `${floor.seconds.toFixed(2)} s  (${Math.round(floor.files / floor.seconds)} files/s, RSS ${floor.peakRssMb} MB)`,
  ],
  [
    'full ingest of the JSON tree',
    `${full.seconds.toFixed(2)} s  (wall ${full.wall.toFixed(2)} s incl. startup), peak RSS ${full.peakRssMb} MB, stored ${counts(full)}`,
  ],
  ['ratio ingest / floor', `${ratio.toFixed(2)}x  (target <= 1.5x: ${ratio <= 1.5 ? 'PASS' : 'FAIL'})`],
  ['peak RSS target < 1000 MB', full.peakRssMb < 1000 ? 'PASS' : 'FAIL'],
  [
    'no-op re-ingest, JSON tree',
    `${noop.wall.toFixed(2)} s wall (${noop.files.parsed} files parsed, ${rowsWritten(noop)} rows written; target <= 2 s: ${noop.wall <= 2 ? 'PASS' : 'FAIL'})`,
  ],
  [
    'same data from opencode.db (v1)',
    `${fromDb.seconds.toFixed(2)} s (wall ${fromDb.wall.toFixed(2)} s), peak RSS ${fromDb.peakRssMb} MB, stored ${counts(fromDb)}`,
  ],
  [
    'no-op re-ingest, opencode.db',
    `${noopDb.wall.toFixed(2)} s wall (${noopDb.dbRowsRead} rows read, ${rowsWritten(noopDb)} rows written; target <= 2 s: ${noopDb.wall <= 2 ? 'PASS' : 'FAIL'})`,
  ],
  [
    'counts match the manifests',
    counts(full) === expected && counts(fromDb) === expectedV1
      ? 'PASS'
      : `FAIL (json ${counts(full)} vs ${expected}, db ${counts(fromDb)} vs ${expectedV1})`,
  ],
];
const w = Math.max(...rows.map((r) => (r[0] as string).length));
for (const [k, v] of rows) console.log(`${(k as string).padEnd(w)}  ${v}`);

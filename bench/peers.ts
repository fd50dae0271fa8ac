/**
 * `npm run bench:peers [-- --scale small|full] [--sessions N] [--runs R]`: ocbridge against the peer
 * tools a user would try first, on the same generated histories (a JSON tree and the same sessions
 * in opencode.db), in the same run, alternating the tools run by run:
 * - first answer: a fresh start to the first per-session totals (ocbridge: `ingest` into a new store,
 *   then `report sessions`; the peers: one cold run with an empty cache);
 * - full load: everything stored, content included (ocbridge: the `ingest`; the peers keep nothing);
 * - no-op re-run on unchanged data (ocbridge: `ingest` again, with the rows it wrote and the store
 *   size before and after; tokscale: a run with its warm cache; ccusage: a second run);
 * - peak RSS (the largest process of the tree, /proc VmHWM) and the store or cache size;
 * - each tool's totals against the generator's manifest, so speed is never bought with wrong numbers.
 * The peers are installed once into a cache folder (`npm install --prefix .tmp/peers`), never into
 * the project's dependencies: ccusage@20.0.24 and @tokscale/cli-linux-x64-gnu@4.17.0. Each peer
 * runs with its own empty HOME (tokscale keeps a parse cache under ~/.config/tokscale) and is
 * pointed at the corpus through XDG_DATA_HOME (tokscale: `$XDG_DATA_HOME/opencode`) and
 * OPENCODE_DATA_DIR (ccusage). The machine may be shared: compare the same-run ratios, and the
 * spread (min–max over --runs) says how noisy the run was.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN_ENV, BIN_NODE_OPTIONS, corpus, type Manifest, node, type Timed, timed } from './common.ts';

const SCALES: Record<string, { sessions: number; runs: number }> = {
  small: { sessions: 40, runs: 3 },
  full: { sessions: 877, runs: 1 },
};
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'full' },
    sessions: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: '.tmp/bench' },
    peers: { type: 'string', default: '.tmp/peers' },
  },
});
const scale = SCALES[values.scale ?? 'full'];
if (!scale) throw new Error(`--scale small|full, not ${values.scale}`);
const sessions = Number(values.sessions ?? scale.sessions);
const runs = Number(values.runs ?? scale.runs);
const root = join(process.cwd(), values.out ?? '.tmp/bench');
const peersDir = join(process.cwd(), values.peers ?? '.tmp/peers');

const PEERS = { ccusage: '20.0.24', '@tokscale/cli-linux-x64-gnu': '4.17.0' } as const;
function installPeers(): { ccusage: string; tokscale: string } {
  const installed = (name: string, version: string) => {
    const p = join(peersDir, 'node_modules', name, 'package.json');
    return existsSync(p) && JSON.parse(readFileSync(p, 'utf8')).version === version;
  };
  if (!Object.entries(PEERS).every(([n, v]) => installed(n, v))) {
    mkdirSync(peersDir, { recursive: true });
    console.error(
      `installing ${Object.entries(PEERS)
        .map(([n, v]) => `${n}@${v}`)
        .join(' ')} into ${peersDir} …`,
    );
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        peersDir,
        '--no-save',
        '--no-audit',
        '--no-fund',
        ...Object.entries(PEERS).map(([n, v]) => `${n}@${v}`),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return {
    ccusage: join(peersDir, 'node_modules', '.bin', 'ccusage'),
    tokscale: join(peersDir, 'node_modules', '@tokscale', 'cli-linux-x64-gnu', 'bin', 'tokscale'),
  };
}

/** Bytes of every file under a path (a file: its size). */
function bytesOf(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(path)) n += bytesOf(join(path, e));
  return n;
}

interface Totals {
  input: number;
  output: number;
  reasoning: number | null;
  cacheRead: number;
  cacheWrite: number;
  cost: number;
}
interface Measure {
  firstAnswer: number;
  fullLoad: number | null;
  noop: number;
  peakRssMb: number;
  storeBytes: number;
  note: string;
  totals: Totals;
}
type Tool = 'ocbridge' | 'tokscale' | 'ccusage';

const sum = (rows: Record<string, unknown>[], k: string) => rows.reduce((n, r) => n + Number(r[k] ?? 0), 0);

async function ocbridge(dataDir: string, work: string): Promise<Measure> {
  const db = join(work, 'store.duckdb');
  const bin = [...BIN_NODE_OPTIONS, 'bin/ocbridge.js'];
  const ingestArgs = [...bin, 'ingest', '--source', dataDir, '--db', db, '--format', 'json', '--no-progress'];
  const load = await timed(node, ingestArgs, BIN_ENV);
  const report = await timed(node, [...bin, 'report', 'sessions', '--db', db, '--format', 'json'], BIN_ENV);
  const storeBytes = bytesOf(db) + bytesOf(`${db}.wal`);
  const noop = await timed(node, ingestArgs, BIN_ENV);
  const after = bytesOf(db) + bytesOf(`${db}.wal`);
  const n = JSON.parse(noop.out) as {
    dbRowsRead: number;
    files: { parsed: number };
    written: { inserted: Record<string, number>; replaced: Record<string, number> };
  };
  const written = [n.written.inserted, n.written.replaced].reduce(
    (a, m) => a + Object.values(m).reduce((x, y) => x + y, 0),
    0,
  );
  const models = JSON.parse(
    (await timed(node, [...bin, 'report', 'models', '--db', db, '--format', 'json'], BIN_ENV)).out,
  ) as Record<string, unknown>[];
  return {
    firstAnswer: load.wall + report.wall,
    fullLoad: load.wall,
    noop: noop.wall,
    peakRssMb: Math.max(load.peakRssMb, report.peakRssMb),
    storeBytes,
    note: `no-op: ${n.dbRowsRead} rows read, ${n.files.parsed} files parsed, ${written} rows written, store ${after === storeBytes ? 'unchanged' : `${storeBytes} -> ${after} bytes`}`,
    totals: {
      input: sum(models, 'input'),
      output: sum(models, 'output'),
      reasoning: sum(models, 'reasoning'),
      cacheRead: sum(models, 'cache_read'),
      cacheWrite: sum(models, 'cache_write'),
      cost: sum(models, 'cost_usd'),
    },
  };
}

/** A peer with its own empty HOME; the data dir is `$XDG_DATA_HOME/opencode` and OPENCODE_DATA_DIR. */
async function peer(
  cmd: string,
  args: string[],
  dataDir: string,
  work: string,
  totals: (out: string) => Totals,
): Promise<Measure> {
  const home = join(work, 'home');
  mkdirSync(join(home, 'xdg'), { recursive: true });
  symlinkSync(dataDir, join(home, 'xdg', 'opencode'));
  const env = { HOME: home, XDG_DATA_HOME: join(home, 'xdg'), OPENCODE_DATA_DIR: dataDir, NO_COLOR: '1' };
  const cold: Timed = await timed(cmd, args, env);
  const warm: Timed = await timed(cmd, args, env);
  const cache = bytesOf(join(home, '.config')) + bytesOf(join(home, '.cache'));
  return {
    firstAnswer: cold.wall,
    fullLoad: null,
    noop: warm.wall,
    peakRssMb: Math.max(cold.peakRssMb, warm.peakRssMb),
    storeBytes: cache,
    note: cache > 0 ? 'store: its cache' : 'keeps nothing',
    totals: totals(cold.out),
  };
}

const tokscaleTotals = (out: string): Totals => {
  const j = JSON.parse(out) as {
    entries: Record<string, unknown>[];
    totalInput: number;
    totalOutput: number;
    totalCacheRead: number;
    totalCacheWrite: number;
    totalCost: number;
  };
  return {
    input: j.totalInput,
    output: j.totalOutput,
    reasoning: sum(j.entries, 'reasoning'),
    cacheRead: j.totalCacheRead,
    cacheWrite: j.totalCacheWrite,
    cost: j.totalCost,
  };
};
const ccusageTotals = (out: string): Totals => {
  const t = (
    JSON.parse(out) as {
      totals: {
        inputTokens: number;
        outputTokens: number;
        cacheReadTokens: number;
        cacheCreationTokens: number;
        totalCost: number;
      };
    }
  ).totals;
  return {
    input: t.inputTokens,
    output: t.outputTokens,
    reasoning: null, // not reported
    cacheRead: t.cacheReadTokens,
    cacheWrite: t.cacheCreationTokens,
    cost: t.totalCost,
  };
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const secs = (xs: number[]) =>
  xs.length === 1
    ? `${xs[0]!.toFixed(2)} s`
    : `${median(xs).toFixed(2)} s (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
/** Relative difference to the manifest ("=" within a millionth: float sums of costs). */
const pct = (got: number | null, want: number) => {
  if (got === null) return 'n/a';
  if (Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want))) return '=';
  return want === 0 ? String(got) : `${(((got - want) / want) * 100).toFixed(1)}%`;
};

const bins = installPeers();
// the bin's first start after a source change builds its start-up bundle; the timed starts don't
await timed(node, [...BIN_NODE_OPTIONS, 'bin/ocbridge.js', '--version'], BIN_ENV);
const TOOLS: Tool[] = ['ocbridge', 'tokscale', 'ccusage'];
console.log(
  `machine: ${cpus().length} cores, node ${process.version}, load average ${loadavg()[0]?.toFixed(2)} at start; ${sessions} sessions, ${runs} run(s) per tool, tools alternating`,
);
for (const layout of ['json', 'v1'] as const) {
  const { dir, manifest } = corpus(root, layout, sessions, values.seed ?? '1');
  const sourceBytes = bytesOf(join(dir, 'storage')) + bytesOf(join(dir, 'opencode.db'));
  const results: Record<Tool, Measure[]> = { ocbridge: [], tokscale: [], ccusage: [] };
  for (let r = 0; r < runs; r++) {
    // rotate the order each run, so no tool always runs right after the same one
    for (let i = 0; i < TOOLS.length; i++) {
      const tool = TOOLS[(i + r) % TOOLS.length] as Tool;
      const work = mkdtempSync(join(root, `peers-${tool}-`));
      try {
        const m =
          tool === 'ocbridge'
            ? await ocbridge(dir, work)
            : tool === 'tokscale'
              ? await peer(
                  bins.tokscale,
                  ['models', '--json', '-c', 'opencode', '--no-spinner'],
                  dir,
                  work,
                  tokscaleTotals,
                )
              : await peer(
                  bins.ccusage,
                  ['opencode', 'session', '--json', '--offline'],
                  dir,
                  work,
                  ccusageTotals,
                );
        results[tool].push(m);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  }
  report(layout, manifest, sourceBytes, results);
}

function report(layout: string, manifest: Manifest, sourceBytes: number, results: Record<Tool, Measure[]>) {
  const label = layout === 'json' ? 'JSON tree' : 'opencode.db';
  console.log(`\n== ${label}: ${manifest.totals.sessions} sessions, source ${mb(sourceBytes)} ==`);
  const rows: string[][] = [
    ['tool', 'first answer', 'full load', 'no-op re-run', 'peak RSS', 'store', 'note'],
  ];
  for (const tool of TOOLS) {
    const ms = results[tool];
    const full = ms.map((m) => m.fullLoad).filter((x): x is number => x !== null);
    rows.push([
      tool,
      secs(ms.map((m) => m.firstAnswer)),
      full.length ? secs(full) : '—',
      secs(ms.map((m) => m.noop)),
      `${Math.max(...ms.map((m) => m.peakRssMb))} MB`,
      mb(median(ms.map((m) => m.storeBytes))),
      ms.at(-1)?.note ?? '',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));

  const med = (t: Tool, f: (m: Measure) => number) => median(results[t].map(f));
  const first = med('ocbridge', (m) => m.firstAnswer);
  const tok = med('tokscale', (m) => m.firstAnswer);
  const noop = med('ocbridge', (m) => m.noop);
  const tokWarm = med('tokscale', (m) => m.noop);
  const store = med('ocbridge', (m) => m.storeBytes);
  const ok = (b: boolean) => (b ? 'PASS' : 'FAIL');
  console.log(
    `first answer / tokscale's: ${(first / tok).toFixed(2)}x (target <= 2x: ${ok(first <= 2 * tok)}; <= 10 s: ${ok(first <= 10)})`,
  );
  console.log(
    `no-op re-run: ${noop.toFixed(2)} s = ${(noop / tokWarm).toFixed(2)}x tokscale's warm run (targets <= 2 s: ${ok(noop <= 2)}; <= tokscale: ${ok(noop <= tokWarm)})`,
  );
  console.log(
    `store / source: ${(store / sourceBytes).toFixed(2)}x (target <= 1: ${ok(store <= sourceBytes)})`,
  );

  const t = manifest.totals;
  const want = {
    input: t.tokens.input,
    output: t.tokens.output,
    reasoning: t.tokens.reasoning,
    cacheRead: t.tokens.cache_read,
    cacheWrite: t.tokens.cache_write,
    cost: t.cost,
  };
  console.log(
    `totals against the manifest (input ${want.input}, output ${want.output}, reasoning ${want.reasoning}, cache read ${want.cacheRead}, cache write ${want.cacheWrite}, cost $${want.cost.toFixed(2)}):`,
  );
  for (const tool of TOOLS) {
    const g = results[tool][0]?.totals;
    if (!g) continue;
    const cells = (Object.keys(want) as (keyof Totals)[]).map((k) => `${k} ${pct(g[k], want[k])}`);
    console.log(`  ${tool.padEnd(9)} ${cells.join(', ')}`);
  }
}

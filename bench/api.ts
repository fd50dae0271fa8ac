/**
 * `npm run bench:api [-- --store F] [--seconds 5] [--rss-seconds 60] [--connections 20]`: the HTTP
 * API on the full-scale store (issue 7: every route p95 < 50 ms at 20 concurrent clients; memory
 * flat over a 60 s run).
 * 1. copies the store (DuckDB locks its file) to .tmp/bench-api/ and starts `ocbridge serve` on it
 *    in its own process (loopback, any free port), as users run it;
 * 2. per route, autocannon with 20 connections for `--seconds`, rotating over realistic URLs
 *    (dashboard-style list queries; the 100 most recent sessions and 120 of their exchanges for the
 *    detail routes, plus the traces of the 20 largest sessions, ~1000 spans each); p50/p95/
 *    p99 from every response time, and the ratio of p95 to the baseline (GET /api/health, same
 *    server, same run);
 * 3. the same against a second server started with `--no-cache` (every request answered by
 *    DuckDB): informational, it shows what the response cache buys;
 * 4. a mixed load over all routes for `--rss-seconds`, the server's RSS sampled every second
 *    (start, end, max): flat means the last third grows less than 10% over the first third.
 * The machine has 2 cores, shared with the load generator and any other work: the load average is printed.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { serveStore } from './common.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: '.tmp/bench/bench-json.duckdb' },
    seconds: { type: 'string', default: '5' },
    'rss-seconds': { type: 'string', default: '60' },
    connections: { type: 'string', default: '20' },
    'skip-uncached': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'serve-args': { type: 'string', default: '' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const rssSeconds = Number(values['rss-seconds']);
const connections = Number(values.connections);
const TARGET_MS = 50;
const load = () => loadavg()[0]?.toFixed(2);

const source = resolve(values.store ?? '');
if (!existsSync(source)) {
  console.error(
    `no store at ${source}: build the full-scale one with \`npm run bench:queries\` (or ocbridge ingest of a generated corpus) and pass --store`,
  );
  process.exit(2);
}
const dir = resolve('.tmp/bench-api');
mkdirSync(dir, { recursive: true });
const db = join(dir, 'store.duckdb');
console.log(`copying ${source} → ${db} …`);
rmSync(`${db}.wal`, { force: true });
if (resolve(source) !== db) copyFileSync(source, db);

interface Server {
  url: string;
  child: ChildProcess;
}

function serve(extra: string[] = []): Promise<Server> {
  const more = (values['serve-args'] ?? '').split(' ').filter(Boolean);
  return serveStore(db, [...more, ...extra]);
}

async function stop(s: Server): Promise<void> {
  if (s.child.exitCode !== null) return;
  const done = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await done;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Number(m[1]) / 1024 : Number.NaN;
}

interface Result {
  n: number;
  errors: number;
  non2xx: number;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
}

const pct = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;

/** autocannon over `paths` (rotated), every response time recorded. */
async function hammer(url: string, paths: string[], secs: number): Promise<Result> {
  const times: number[] = [];
  let non2xx = 0;
  const inst = autocannon({
    url,
    connections,
    duration: secs,
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  inst.on('response', (_c: unknown, status: number, _bytes: number, ms: number) => {
    times.push(ms);
    if (status < 200 || status > 299) non2xx++;
  });
  const r = await new Promise<{ errors: number; timeouts: number }>((res, rej) =>
    inst.once('done', res).once('error', rej),
  );
  times.sort((a, b) => a - b);
  return {
    n: times.length,
    errors: r.errors + r.timeouts,
    non2xx,
    p50: pct(times, 50),
    p95: pct(times, 95),
    p99: pct(times, 99),
    rps: times.length / secs,
  };
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return (await r.json()) as T;
}

console.log(`machine: ${cpus().length} cores, load average ${load()} (the load generator shares them)`);
const cached = await serve();
console.log(
  `ocbridge serve ${cached.url} (pid ${cached.child.pid}), RSS ${rssMb(cached.child.pid ?? 0).toFixed(0)} MB`,
);

// realistic URLs: what the dashboards ask, and 100 different sessions / exchanges
// the 100 most recent sessions (what a "recent sessions" table links to), and the 20 largest (worst case)
const sessions = (
  await getJson<{ data: { session_id: string }[] }>(`${cached.url}/api/sessions?limit=100`)
).data.map((s) => s.session_id);
const largest = (
  await getJson<{ data: { session_id: string }[] }>(`${cached.url}/api/sessions?limit=20&sort=exchange_count`)
).data.map((s) => s.session_id);
const exchanges: string[] = [];
for (const id of sessions.slice(0, 40)) {
  const d = await getJson<{ data: { exchanges: { exchange_id: string }[] } }>(
    `${cached.url}/api/sessions/${id}`,
  );
  exchanges.push(...d.data.exchanges.slice(0, 3).map((e) => e.exchange_id));
}
const last = await getJson<{ data: { started_at: string }[] }>(`${cached.url}/api/sessions?limit=1`);
const to = Date.parse(last.data[0]?.started_at ?? new Date().toISOString()) + 1;
const from30 = to - 30 * 86_400_000;
const from7 = to - 7 * 86_400_000;
const range = (f: number) => `from=${f}&to=${to}`;
const ROUTES: [string, string[]][] = [
  [
    'GET /api/sessions',
    [
      `/api/sessions?${range(from30)}`,
      '/api/sessions?sort=computed_cost_usd&limit=50',
      '/api/sessions?root_only=true',
    ],
  ],
  ['GET /api/sessions/:id', sessions.map((s) => `/api/sessions/${s}`)],
  ['GET /api/sessions/:id/trace', sessions.map((s) => `/api/sessions/${s}/trace`)],
  ['  … of the 20 largest sessions', largest.map((s) => `/api/sessions/${s}/trace`)],
  ['GET /api/exchanges/:id', exchanges.map((e) => `/api/exchanges/${e}`)],
  [
    'GET /api/usage',
    [
      `/api/usage?group_by=day&${range(from30)}`,
      `/api/usage?group_by=hour&${range(from7)}`,
      `/api/usage?group_by=model&${range(from30)}`,
      `/api/usage?group_by=project&${range(from30)}`,
    ],
  ],
  ['GET /api/tools', [`/api/tools?${range(from30)}`, '/api/tools']],
  ['GET /api/errors', [`/api/errors?${range(from30)}`, '/api/errors']],
  ['GET /api/projects', ['/api/projects', `/api/projects?${range(from30)}`]],
  ['GET /api/models', ['/api/models', `/api/models?${range(from30)}`]],
];

const show = (name: string, r: Result, base?: Result) =>
  console.log(
    `  ${name.padEnd(28)} ${String(r.n).padStart(7)} req ${r.rps.toFixed(0).padStart(6)}/s  p50 ${r.p50.toFixed(1).padStart(6)}  p95 ${r.p95
      .toFixed(1)
      .padStart(
        6,
      )}  p99 ${r.p99.toFixed(1).padStart(6)} ms${base ? `  p95 ×${(r.p95 / Math.max(base.p95, 0.1)).toFixed(1)} baseline` : ''}${
      r.errors + r.non2xx > 0 ? `  errors ${r.errors}, non-2xx ${r.non2xx}` : ''
    }${base ? `  ${r.p95 < TARGET_MS && r.errors + r.non2xx === 0 ? 'PASS' : 'FAIL'}` : ''}`,
  );

let failed = 0;
try {
  console.log(
    `\n1. ${connections} connections, ${seconds} s per route, response cache on (as served); target p95 < ${TARGET_MS} ms`,
  );
  const base = await hammer(cached.url, ['/api/health'], seconds);
  show('GET /api/health (baseline)', base);
  for (const [name, paths] of ROUTES) {
    if (values.only && !name.includes(values.only)) continue;
    const r = await hammer(cached.url, paths, seconds);
    show(name, r, base);
    if (!(r.p95 < TARGET_MS && r.errors + r.non2xx === 0)) failed++;
  }
  console.log(`  load average ${load()}`);

  if (!values['skip-uncached']) {
    const raw = await serve(['--no-cache']);
    try {
      console.log(`\n2. the same, --no-cache (every request answered by DuckDB; informational)`);
      const b2 = await hammer(raw.url, ['/api/health'], seconds);
      show('GET /api/health (baseline)', b2);
      for (const [name, paths] of ROUTES) show(name, await hammer(raw.url, paths, seconds), b2);
      console.log(`  load average ${load()}`);
    } finally {
      await stop(raw);
    }
  }

  console.log(
    `\n3. memory: all routes mixed, ${connections} connections, ${rssSeconds} s, RSS sampled every second`,
  );
  const pid = cached.child.pid ?? 0;
  const samples: number[] = [rssMb(pid)];
  const timer = setInterval(() => samples.push(rssMb(pid)), 1000);
  const mixed = await hammer(
    cached.url,
    ROUTES.flatMap(([, p]) => p),
    rssSeconds,
  );
  clearInterval(timer);
  samples.push(rssMb(pid));
  const third = Math.max(1, Math.floor(samples.length / 3));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = avg(samples.slice(0, third));
  const late = avg(samples.slice(-third));
  const flat = late <= early * 1.1;
  show('mixed', mixed);
  console.log(
    `  RSS start ${samples[0]?.toFixed(0)} MB, end ${samples.at(-1)?.toFixed(0)} MB, max ${Math.max(...samples).toFixed(0)} MB; ` +
      `first third avg ${early.toFixed(0)} MB, last third avg ${late.toFixed(0)} MB (×${(late / early).toFixed(2)}, target ≤ ×1.10) ${flat ? 'PASS' : 'FAIL'}`,
  );
  if (!flat) failed++;
} finally {
  await stop(cached);
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
console.log(
  `\n${failed === 0 ? 'PASS' : `FAIL (${failed})`}: every route p95 < ${TARGET_MS} ms at ${connections} connections; RSS flat`,
);
process.exitCode = failed === 0 ? 0 : 1;

/**
 * `npm run bench:queries [-- --sessions 877 --layout json --runs 40]`: the analytics model at full scale.
 * 1. generates (or reuses, cached in .tmp/bench-queries/) a corpus;
 * 2. a full ingest into a fresh store with derivation off, then `deriveAll` on it: the derivation's
 *    share of a full ingest (issue 3: ≤ 30%);
 * 3. the five queries of issue 3, p50 and p95 over `--runs` runs each (target: p50 < 50 ms).
 * The machine has 2 cores and other work may run at the same time; the load average is printed.
 */
import { existsSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCorpus, type Layout, MANIFEST_FILE } from '../src/gen/index.ts';
import { runIngest } from '../src/pipeline/ingestor.ts';
import { openStore } from '../src/store/db.ts';
import { deriveAll } from '../src/store/derive/index.ts';
import { queryRows } from '../src/store/query.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '877' },
    layout: { type: 'string', default: 'json' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '40' },
    out: { type: 'string', default: '.tmp/bench-queries' },
  },
});
const sessions = Number(values.sessions);
const layout = values.layout as Layout;
const runs = Number(values.runs);
const root = join(process.cwd(), values.out ?? '.tmp/bench-queries');
const corpus = join(root, `corpus-${layout}-${sessions}-s${values.seed}`);
const dbPath = join(root, `bench-${layout}-${sessions}.duckdb`);
const load = () => loadavg()[0]!.toFixed(2);

if (!existsSync(join(corpus, MANIFEST_FILE))) {
  console.log(`generating ${sessions} sessions (${layout}) into ${corpus} …`);
  await generateCorpus({ out: corpus, sessions, seed: values.seed ?? '1', layout });
}
for (const f of [dbPath, `${dbPath}.wal`]) rmSync(f, { force: true });

console.log(
  `machine: ${cpus().length} cores, load average ${load()} (other work may be running: numbers are noisy)`,
);
const store = await openStore(dbPath);
try {
  let t = performance.now();
  const summary = await runIngest(store, { source: corpus, derive: false });
  const ingestMs = performance.now() - t;
  t = performance.now();
  const derived = await deriveAll(store.conn);
  const deriveMs = performance.now() - t;
  const ratio = deriveMs / ingestMs;
  console.log(
    `\nfull ingest of ${sessions} sessions (${summary.stats.inserted.message} messages, ${summary.stats.inserted.part} parts):` +
      `\n  without derivation  ${(ingestMs / 1000).toFixed(1)} s` +
      `\n  derivation          ${(deriveMs / 1000).toFixed(1)} s  (stages ms: ${JSON.stringify(derived.stages)})` +
      `\n  with derivation     ${((ingestMs + deriveMs) / 1000).toFixed(1)} s  → derivation adds ${(ratio * 100).toFixed(1)}% ` +
      `(target ≤ 30%: ${ratio <= 0.3 ? 'ok' : 'OVER'}); load average now ${load()}`,
  );

  const pick = async (sql: string) => String((await queryRows(store.conn, sql))[0]?.v);
  const project = await pick(
    'SELECT project_id AS v FROM session_resource_metrics GROUP BY 1 ORDER BY count(*) DESC LIMIT 1',
  );
  const session = await pick(
    'SELECT session_id AS v FROM exchanges GROUP BY 1 ORDER BY count(*) DESC LIMIT 1',
  );
  const queries: Array<[string, string, unknown[]]> = [
    [
      'sessions of one project by cost',
      `SELECT session_id, title, started_at, exchange_count, cost_usd, computed_cost_usd, total_computed_cost_usd
       FROM session_resource_metrics WHERE project_id = $1 ORDER BY total_computed_cost_usd DESC NULLS LAST`,
      [project],
    ],
    [
      'one session with its exchanges',
      `SELECT s.title, s.total_computed_cost_usd, e.*
       FROM exchanges e JOIN session_resource_metrics s USING (session_id)
       WHERE e.session_id = $1 ORDER BY e.exchange_index`,
      [session],
    ],
    [
      'tool latency p50/p95/p99 by tool',
      `SELECT tool_name, count(*) AS calls, quantile_cont(execution_time_ms, [0.5, 0.95, 0.99]) AS p
       FROM tool_call_facts WHERE execution_time_ms IS NOT NULL GROUP BY tool_name ORDER BY calls DESC`,
      [],
    ],
    [
      'error counts by category per day',
      `SELECT CAST(occurred_at AS DATE) AS day, error_category, count(*) AS n FROM errors GROUP BY ALL ORDER BY 1, 2`,
      [],
    ],
    [
      'cost per model per day, 30 days',
      `SELECT day, provider_id, model_id, sum(cost_usd) AS cost, sum(computed_cost_usd) AS computed
       FROM daily_stats WHERE day > (SELECT max(day) FROM daily_stats) - 30 GROUP BY ALL ORDER BY 1, 2, 3`,
      [],
    ],
  ];
  console.log(`\nqueries (${runs} runs each after 3 warm-up runs; target p50 < 50 ms):`);
  let allOk = true;
  for (const [name, sql, params] of queries) {
    const times: number[] = [];
    let n = 0;
    for (let i = 0; i < runs + 3; i++) {
      const q = performance.now();
      n = (await queryRows(store.conn, sql, params)).length;
      if (i >= 3) times.push(performance.now() - q);
    }
    times.sort((a, b) => a - b);
    const p = (x: number) => times[Math.min(times.length - 1, Math.floor(x * times.length))]!;
    const ok = p(0.5) < 50;
    allOk &&= ok;
    console.log(
      `  ${name.padEnd(36)} p50 ${p(0.5).toFixed(1).padStart(6)} ms  p95 ${p(0.95).toFixed(1).padStart(6)} ms  (${n} rows) ${ok ? 'ok' : 'OVER'}`,
    );
  }
  console.log(
    `\nsummary: derivation +${(ratio * 100).toFixed(1)}% of ingest; queries ${allOk ? 'all' : 'NOT all'} under 50 ms p50; load average ${load()}`,
  );
} finally {
  store.close();
}

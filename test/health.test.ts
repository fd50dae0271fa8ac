import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/db.ts';
import {
  CHECK_IDS,
  type HealthContext,
  type HealthResult,
  runHealthChecks,
  saveHealthResults,
  statusOf,
  toMetricResults,
} from '../src/store/health/index.ts';
import { cli } from './support/cli.ts';
import { tempDir } from './support/datadir.ts';
import { healthyStore } from './support/health.ts';
import { rows } from './support/store.ts';

const NOW = new Date('2026-03-10T12:00:00Z');

/** daily_stats rows for the 7 days before NOW (baseline) and NOW's day (today × `factor`). */
const daily = (factor: number) => `
  INSERT INTO daily_stats BY NAME
  SELECT CAST('2026-03-10' AS DATE) - CAST(i AS INTEGER) AS day, 'p' AS project_id, 'anthropic' AS provider_id,
         'claude-sonnet-4-5' AS model_id, 'build' AS agent, 1 AS session_count, 1 AS exchange_count,
         100 AS assistant_message_count, 100 AS step_count, 0 AS tool_call_count, 0 AS tool_error_count,
         CASE WHEN i = 0 THEN 5 * ${factor} ELSE 5 END AS error_count,
         CASE WHEN i = 0 THEN 100000 * ${factor} ELSE 100000 END AS input_tokens, 0 AS output_tokens,
         0 AS reasoning_tokens, 0 AS cache_read_tokens, 0 AS cache_write_tokens,
         CASE WHEN i = 0 THEN 2.0 * ${factor} ELSE 2.0 END AS cost_usd,
         CASE WHEN i = 0 THEN 2.0 * ${factor} ELSE 2.0 END AS computed_cost_usd
  FROM range(0, 8) t(i)`;

interface Case {
  sql?: string[];
  ctx?: Partial<HealthContext>;
}

/** For every check: a change to the healthy store (or the context) that keeps it passing, and one that makes it fail. */
const CASES: Record<string, { pass: Case; fail: Case }> = {
  source_readable: {
    pass: {},
    fail: { ctx: { sources: [{ path: '/nonexistent/opencode', kind: 'root' }] } },
  },
  ingest_errors: {
    pass: {
      sql: [
        "INSERT INTO ingest_errors VALUES ('old.json', 'bad', 'error', TIMESTAMP '2026-03-01 00:00:00', TIMESTAMP '2026-03-01 00:00:00', 1)",
      ],
    },
    fail: {
      sql: [
        "INSERT INTO ingest_errors SELECT 'f' || i || '.json', 'bad', 'error', TIMESTAMP '2026-03-10 11:00:00', TIMESTAMP '2026-03-10 11:00:00', 1 FROM range(11) t(i)",
      ],
    },
  },
  orphan_parts: {
    pass: {},
    fail: { sql: ["UPDATE parts SET message_id = 'msg_gone' WHERE part_type = 'text'"] },
  },
  orphan_messages: { pass: {}, fail: { sql: ['DELETE FROM sessions'] } },
  duplicate_ids: {
    pass: {},
    fail: { sql: ['INSERT INTO exchanges SELECT * FROM exchanges'] },
  },
  exchange_coverage: { pass: {}, fail: { sql: ['DELETE FROM exchanges'] } },
  tool_execution_time: { pass: {}, fail: { sql: ['UPDATE tool_calls SET execution_time_ms = NULL'] } },
  token_coverage: {
    pass: {},
    fail: { sql: ["UPDATE messages SET token_source = NULL WHERE role = 'assistant'"] },
  },
  cost_agreement: {
    pass: {},
    fail: { sql: ['UPDATE message_facts SET computed_cost_usd = cost_usd * 1.2 WHERE cost_usd > 0'] },
  },
  model_priced: {
    pass: {
      sql: ["UPDATE messages SET model_id = 'local-llama' WHERE role = 'assistant'"],
      ctx: { unpricedModels: ['anthropic/local-llama'] },
    },
    fail: { sql: ["UPDATE messages SET model_id = 'local-llama' WHERE role = 'assistant'"] },
  },
  subagent_links: {
    pass: {},
    fail: {
      sql: ["UPDATE sessions SET parent_session_id = 'ses_gone'"],
      ctx: { thresholds: { subagent_links: { warn: undefined, fail: 0 } } },
    },
  },
  watch_lag: { pass: { ctx: { watchLagMs: 30 } }, fail: { ctx: { watchLagMs: 60_000 } } },
  export_backlog: { pass: { ctx: { exportBacklog: 0 } }, fail: { ctx: { exportBacklog: 20_000 } } },
  query_latency: { pass: {}, fail: { ctx: { thresholds: { query_latency: { fail: 0.000001 } } } } },
  cost_anomaly: { pass: { sql: [daily(1)] }, fail: { sql: [daily(20)] } },
  token_anomaly: { pass: { sql: [daily(1)] }, fail: { sql: [daily(20)] } },
  error_rate_anomaly: { pass: { sql: [daily(1)] }, fail: { sql: [daily(20)] } },
  derive_backlog: {
    pass: {},
    fail: { sql: ["INSERT INTO derive_queue (session_id) SELECT 'ses_' || i FROM range(6000) t(i)"] },
  },
  db_size: { pass: {}, fail: { ctx: { thresholds: { db_size: { fail: 1000 } } } } },
  db_size_growth: {
    pass: {
      sql: [
        "INSERT INTO health_check_history VALUES ('r0', TIMESTAMP '2026-03-09 12:00:00', 'db_size', 'pass', 1e12, NULL, 1, 'x')",
      ],
    },
    fail: {
      sql: [
        "INSERT INTO health_check_history VALUES ('r0', TIMESTAMP '2026-03-09 12:00:00', 'db_size', 'pass', 1000, NULL, 1, 'x')",
      ],
    },
  },
};

let store: Store;
let dir: string;
beforeAll(async () => {
  ({ store, dir } = await healthyStore());
});
afterAll(() => store?.close());

/** Runs one check on the healthy store changed by `c`, inside a transaction that is rolled back. */
async function check(id: string, c: Case): Promise<HealthResult> {
  await store.conn.run('BEGIN TRANSACTION');
  try {
    for (const sql of c.sql ?? []) await store.conn.run(sql);
    const [r] = await runHealthChecks(store.conn, {
      now: NOW,
      sources: [{ path: dir, kind: 'root' }],
      ...c.ctx,
      only: [id],
    });
    if (!r) throw new Error(`no result for ${id}`);
    return r;
  } finally {
    await store.conn.run('ROLLBACK');
  }
}

describe('health checks', () => {
  it('has at least 15 checks, each with a passing and a failing fixture here', () => {
    expect(CHECK_IDS.length).toBeGreaterThanOrEqual(15);
    expect(Object.keys(CASES).sort()).toEqual([...CHECK_IDS].sort());
  });

  it('the healthy store passes every check, and the store checks measure a value', async () => {
    const results = await runHealthChecks(store.conn, {
      now: NOW,
      sources: [{ path: dir, kind: 'root' }],
      watchLagMs: 0,
      exportBacklog: 0,
    });
    expect(results.filter((r) => r.status !== 'pass').map((r) => `${r.id}: ${r.explanation}`)).toEqual([]);
    for (const id of [
      'source_readable',
      'orphan_parts',
      'duplicate_ids',
      'token_coverage',
      'cost_agreement',
      'db_size',
    ])
      expect(results.find((r) => r.id === id)?.value, id).not.toBeNull();
    for (const r of results) expect(r.explanation.length, r.id).toBeGreaterThan(0);
  });

  for (const id of Object.keys(CASES)) {
    it(`${id}: passes on its passing fixture, fails on its failing one`, async () => {
      const c = CASES[id] as { pass: Case; fail: Case };
      const ok = await check(id, c.pass);
      expect(ok.status, `${id} pass: ${ok.explanation}`).toBe('pass');
      const bad = await check(id, c.fail);
      expect(bad.status, `${id} fail: ${bad.explanation}`).toBe('fail');
      expect(bad.explanation).not.toMatch(/check failed to run/);
      expect(bad.value).not.toBeNull();
    });
  }

  it('ingest_errors looks back health.ingestErrorHours', async () => {
    const old = CASES.ingest_errors?.pass as Case;
    expect((await check('ingest_errors', old)).value).toBe(0);
    const month = await check('ingest_errors', { ...old, ctx: { ingestErrorHours: 24 * 30 } });
    expect(month.value).toBe(1);
    expect(month.explanation).toMatch(/in 720 h/);
  });

  it('thresholds: direction, warn band, null values pass', () => {
    expect(statusOf(5, 'max', { warn: 1, fail: 10 })).toBe('warn');
    expect(statusOf(11, 'max', { warn: 1, fail: 10 })).toBe('fail');
    expect(statusOf(0.9, 'min', { fail: 0.95 })).toBe('fail');
    expect(statusOf(null, 'max', { fail: 0 })).toBe('pass');
  });

  it('stores results in health_check_history and maps them for /metrics', async () => {
    const results = await runHealthChecks(store.conn, { now: NOW, only: ['orphan_parts', 'db_size'] });
    const runId = await saveHealthResults(store.conn, results, { now: NOW });
    const saved = await rows(
      store,
      'SELECT check_id, status, value, explanation FROM health_check_history WHERE run_id = $1 ORDER BY 1',
      [runId],
    );
    expect(saved.map((r) => r.check_id)).toEqual(['db_size', 'orphan_parts']);
    expect(saved.every((r) => r.status === 'pass')).toBe(true);
    expect(toMetricResults(results)).toEqual(results.map((r) => ({ check: r.id, ok: true, value: r.value })));
  });
});

describe('ocbridge health (CLI)', () => {
  it('prints JSON, stores the run, exits 0 when healthy and 1 when a check fails; thresholds come from the config file', async () => {
    const { store: s, dir: src } = await healthyStore();
    const db = s.path;
    s.close();
    const cfg = join(tempDir('ocb-cfg-'), 'ocbridge.config.json');
    writeFileSync(
      cfg,
      JSON.stringify({ health: { thresholds: { query_latency: { warn: 60_000, fail: 60_000 } } } }),
    );
    const env = { OCBRIDGE_CONFIG: cfg };
    const ok = cli(['health', '--db', db, '--source', src, '--format', 'json'], env);
    expect(ok.status, ok.stderr).toBe(0);
    const okRun = JSON.parse(ok.stdout) as { status: string; results: HealthResult[] };
    expect(okRun.status).not.toBe('fail');
    expect(okRun.results.find((r) => r.id === 'query_latency')?.threshold.fail).toBe(60_000);

    const w = await openStore(db);
    await w.conn.run('DELETE FROM exchanges');
    w.close();
    const bad = cli(['health', '--db', db, '--source', src], env);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/exchange_coverage\s*│\s*FAIL/);

    const r = await openStore(db, { readOnly: true });
    try {
      const runs = await rows(
        r,
        "SELECT count(DISTINCT run_id) AS runs, count(*) FILTER (WHERE status = 'fail') AS fails FROM health_check_history",
      );
      expect(runs[0]).toEqual({ runs: 2, fails: 1 });
    } finally {
      r.close();
    }
  });
});

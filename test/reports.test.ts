import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyStoreHint, parseWhen } from '../src/cli/report-command.ts';
import { renderReport, renderSummary } from '../src/cli/report-view.ts';
import { formatUsd, width } from '../src/cli/table.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { runSummary } from '../src/store/report-summary.ts';
import { REPORTS, runReport } from '../src/store/reports.ts';
import { DataDir, rows, stepFinish, stepStart, T0, tool, withSubagent } from './support/analytics.ts';
import { cli } from './support/cli.ts';
import { tempDir } from './support/datadir.ts';

const DAY = 86_400_000;
const H = 3_600_000;

/**
 * Two UTC days (2026-01-02 and 03). ses_a spans both days and uses two agents on the first; ses_b
 * is on day 1 only; ses_p and its sub-agent ses_c (withSubagent) are on day 1 as well, and ses_x
 * with a long title and a tool error on day 2.
 */
function fixture(): DataDir {
  const d = withSubagent(new DataDir().project('proj1', '/home/someone/src/a-project-with-a-long-path/app'));
  d.session('ses_a', { created: T0 + H });
  d.user('ses_a', 'msg_a_u1', T0 + H);
  d.assistant(
    'ses_a',
    'msg_a_a1',
    'msg_a_u1',
    { created: T0 + H + 10, tokens: { input: 100, output: 10 }, cost: 0.25 },
    [stepStart(), stepFinish({ input: 100, output: 10 }, 0.25)],
  );
  d.assistant(
    'ses_a',
    'msg_a_a2',
    'msg_a_u1',
    {
      created: T0 + 2 * H,
      agent: 'plan',
      model: 'gpt-5',
      provider: 'openai',
      tokens: { input: 200, read: 1000 },
      cost: 1234.5,
    },
    [stepStart(), stepFinish({ input: 200, read: 1000 }, 1234.5)],
  );
  d.user('ses_a', 'msg_a_u2', T0 + DAY + H);
  d.assistant(
    'ses_a',
    'msg_a_a3',
    'msg_a_u2',
    { created: T0 + DAY + H + 10, tokens: { output: 50 }, cost: 0.5 },
    [stepStart(), stepFinish({ output: 50 }, 0.5)],
  );
  d.session('ses_b', { created: T0 + 3 * H });
  d.user('ses_b', 'msg_b_u', T0 + 3 * H);
  d.assistant('ses_b', 'msg_b_a', 'msg_b_u', { created: T0 + 3 * H + 10, tokens: { input: 7 }, cost: 0.01 }, [
    stepStart(),
    stepFinish({ input: 7 }, 0.01),
  ]);
  d.session('ses_x', { created: T0 + DAY + 2 * H });
  d.user('ses_x', 'msg_x_u', T0 + DAY + 2 * H);
  d.assistant(
    'ses_x',
    'msg_x_a',
    'msg_x_u',
    { created: T0 + DAY + 2 * H + 10, tokens: { input: 3_000_000 }, cost: 12 },
    [
      stepStart(),
      tool('bash', T0 + DAY + 2 * H + 20, T0 + DAY + 2 * H + 30, { error: 'command not found: frobnicate' }),
      stepFinish({ input: 3_000_000 }, 12),
    ],
  );
  return d;
}

let store: Store;
let storeTokens = 0;
let storeCost = 0;
let dbPath = '';
beforeAll(async () => {
  const d = fixture();
  const { ingestInto } = await import('./support/store.ts');
  ({ store, dbPath } = await ingestInto(d.dir));
  const [t] = await rows(
    store,
    `SELECT sum(input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens) AS tokens,
            sum(cost_usd) AS cost FROM message_facts WHERE role = 'assistant'`,
  );
  storeTokens = Number(t?.tokens);
  storeCost = Number(t?.cost);
}, 60_000);
let closed = false;
const closeStore = () => {
  if (!closed) store?.close();
  closed = true;
};
afterAll(closeStore);

describe('report totals equal the store', () => {
  it('sessions count once per day they were active, however many agents or models they used', async () => {
    const r = await runReport(store.conn, 'daily');
    expect(r.rows.map((x) => [x.day, x.sessions])).toEqual([
      ['2026-01-02', 4], // ses_a (two agents, two models), ses_b, ses_p, ses_c
      ['2026-01-03', 2], // ses_a again, ses_x
    ]);
    expect(r.totals.sessions).toBe(Number((await rows(store, 'SELECT count(*) AS n FROM sessions'))[0]?.n));
  });

  it('the one-day session count equals the number of sessions active that day', async () => {
    const r = await runReport(store.conn, 'daily', {
      since: parseWhen('2026-01-02'),
      until: parseWhen('2026-01-02', true),
    });
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]?.sessions).toBe(4);
    expect(r.totals.sessions).toBe(4);
  });

  it('every report totals the tokens, cost and sessions of the store', async () => {
    for (const name of ['daily', 'weekly', 'monthly', 'models', 'sessions'] as const) {
      const { totals } = await runReport(store.conn, name);
      expect(Number(totals.tokens), name).toBe(storeTokens);
      expect(Number(totals.cost_usd), name).toBeCloseTo(storeCost, 9);
    }
    for (const name of ['daily', 'weekly', 'monthly', 'sessions'] as const)
      expect((await runReport(store.conn, name)).totals.sessions, name).toBe(5);
    const tools = await runReport(store.conn, 'tools');
    expect(tools.totals.calls).toBe(tools.rows.reduce((a, x) => a + Number(x.calls), 0));
    const errors = await runReport(store.conn, 'errors');
    expect(errors.totals.count).toBe(errors.rows.reduce((a, x) => a + Number(x.count), 0));
  });

  it('sessions: sub-agents nested under their parent with the cost rolled up; --flat lists each', async () => {
    const nested = (await runReport(store.conn, 'sessions')).rows;
    const p = nested.findIndex((x) => x.session_id === 'ses_p');
    expect(nested[p + 1]).toMatchObject({ session_id: 'ses_c', depth: 1 });
    expect(nested[p]?.total_cost_usd).toBeCloseTo(1.5, 9);
    expect(nested[p]?.cost_usd).toBeCloseTo(1, 9);
    const flat = (await runReport(store.conn, 'sessions', { flat: true })).rows;
    expect(flat.every((x) => x.depth === 0)).toBe(true);
    expect(flat).toHaveLength(5);
    expect(renderReport('sessions', { rows: nested, totals: {} }, { width: 120 })).toContain('└ title ses_c');
  });

  it('json keeps full precision and stable column names', async () => {
    const r = await runReport(store.conn, 'daily');
    expect(Object.keys(r.rows[0] ?? {})).toEqual([
      'day',
      'sessions',
      'exchanges',
      'llm_messages',
      'tool_calls',
      'errors',
      'input_tokens',
      'output_tokens',
      'reasoning_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'tokens',
      'cost_usd',
      'computed_cost_usd',
      'models',
    ]);
    expect(r.rows.find((x) => x.day === '2026-01-02')?.cost_usd).toBeCloseTo(1234.5 + 0.25 + 0.01 + 1.5, 9);
  });
});

describe('report screens', () => {
  it('money and counts are formatted for people', () => {
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    expect(formatUsd(0.001)).toBe('$0.00');
    const out = renderReport(
      'daily',
      { rows: [], totals: { tokens: 3001210, cost_usd: 1249.26 } },
      { width: 80 },
    );
    expect(out).toMatch(/Total .*3,001,210 .*\$1,249\.26/);
  });

  it('no line of a compact report is wider than the terminal (80 and 120 columns)', async () => {
    for (const w of [80, 120]) {
      for (const name of REPORTS) {
        const out = renderReport(name, await runReport(store.conn, name), { width: w });
        const widest = Math.max(...out.split('\n').map(width));
        expect(widest, `${name} at ${w}`).toBeLessThanOrEqual(w);
      }
      const s = renderSummary(await runSummary(store.conn, { now: new Date(T0 + DAY + 5 * H) }), {
        width: w,
        dbArg: ' --db x',
      });
      expect(Math.max(...s.split('\n').map(width)), `summary at ${w}`).toBeLessThanOrEqual(w);
    }
    const wide = renderReport('sessions', await runReport(store.conn, 'sessions'), { width: 80, wide: true });
    expect(Math.max(...wide.split('\n').map(width))).toBeGreaterThan(80);
  });

  it('the summary: today, 7 and 30 days, all time', async () => {
    const s = await runSummary(store.conn, { now: new Date(T0 + DAY + 5 * H) });
    expect(s.windows.map((w) => [w.window, w.sessions])).toEqual([
      ['today', 2],
      ['7d', 5],
      ['30d', 5],
      ['all', 5],
    ]);
    expect(s.windows[3]?.tokens).toBe(storeTokens);
    expect(s.top_tools.map((t) => t.tool_name)).toContain('bash');
  });

  it('the CLI: $COLUMNS when stdout is not a terminal, csv, an empty store says how to fill it', async () => {
    closeStore(); // the CLI opens the file itself
    const r = cli(['report', 'sessions', '--db', dbPath], { COLUMNS: '120' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(Math.max(...lines.map(width))).toBeLessThanOrEqual(120);
    expect(Math.max(...lines.map(width))).toBeGreaterThan(80);
    const csv = cli(['report', 'daily', '--db', dbPath, '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toMatch(/^day,sessions,exchanges,/);
    const empty = join(tempDir('ocb-empty-'), 'empty.duckdb');
    (await openStore(empty)).close();
    const e = cli(['report', '--db', empty]);
    expect(e.status).toBe(0);
    expect(e.stderr.trim()).toBe(emptyStoreHint(empty));
    expect(e.stderr).toContain(`ocbridge ingest --db ${empty}`);
  });
});

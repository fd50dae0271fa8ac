import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../src/gen/index.ts';
import type { Store } from '../src/store/db.ts';
import { deriveAll, deriveForSessions } from '../src/store/derive/index.ts';
import { runReport } from '../src/store/reports.ts';
import { tempDir } from './support/datadir.ts';
import { ingestInto, rows } from './support/store.ts';

let store: Store;

beforeAll(async () => {
  const out = join(tempDir('ocb-gen-'), 'corpus');
  await generateCorpus({ out, sessions: 24, seed: '7', layout: 'mixed' });
  store = (await ingestInto(out)).store;
}, 120_000);
afterAll(() => store?.close());

const DERIVED = [
  'steps',
  'message_facts',
  'tool_call_facts',
  'exchanges',
  'exchange_traces',
  'exchange_span_rows',
  'file_operations',
  'reasoning_blocks',
  'text_blocks',
  'retries',
  'compactions',
  'session_resource_metrics',
  'daily_stats',
];

async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of DERIVED) {
    const [r] = await rows(
      store,
      `SELECT count(*) AS n, coalesce(sum(hash(COLUMNS(*)::VARCHAR)) , 0)::VARCHAR AS h FROM ${t}`
        .replace('hash(COLUMNS(*)::VARCHAR)', `hash(${t}::VARCHAR)`)
        .replace(`FROM ${t}`, `FROM ${t} AS ${t}`),
    );
    out[t] = `${r!.n}:${r!.h}`;
  }
  return out;
}

describe('analytics model on a generated corpus (all storage generations)', () => {
  it('has one exchange per user message, and token sums that never double count', async () => {
    const [c] = await rows(
      store,
      `SELECT (SELECT count(*) FROM messages WHERE role IN ('user', 'synthetic', 'compaction')) AS roots,
              (SELECT count(*) FROM exchanges WHERE kind <> 'orphan') AS ex,
              (SELECT sum(input_tokens + output_tokens + cache_read_tokens) FROM messages WHERE role = 'assistant') AS m,
              (SELECT sum(input_tokens + output_tokens + cache_read_tokens) FROM exchanges) AS e,
              (SELECT sum(input_tokens + output_tokens + cache_read_tokens) FROM steps) AS s,
              (SELECT sum(input_tokens + output_tokens + cache_read_tokens) FROM session_resource_metrics) AS sm,
              (SELECT sum(input_tokens + output_tokens + cache_read_tokens) FROM daily_stats) AS d,
              (SELECT sum(cost_usd) FROM messages) AS mc, (SELECT sum(cost_usd) FROM exchanges) AS ec`,
    );
    expect(c!.ex).toBe(c!.roots);
    expect(c!.e).toBe(c!.m);
    expect(c!.s).toBe(c!.m);
    expect(c!.sm).toBe(c!.m);
    expect(c!.d).toBe(c!.m);
    expect(Number(c!.ec)).toBeCloseTo(Number(c!.mc), 6);
  });

  it('span trees: one root per exchange, unique IDs, every parent inside the exchange, children within their parent', async () => {
    const [v] = await rows(
      store,
      `WITH t AS (SELECT * FROM exchange_traces)
       SELECT (SELECT count(*) FROM exchanges) AS exchanges,
              (SELECT count(*) FROM t WHERE parent_span_id IS NULL) AS roots,
              (SELECT count(*) FROM t WHERE parent_span_id IS NULL AND (kind <> 'exchange' OR span_id <> exchange_id)) AS bad_roots,
              (SELECT count(*) - count(DISTINCT (exchange_id, span_id)) FROM t) AS duplicate_ids,
              (SELECT count(*) FROM t c WHERE c.parent_span_id IS NOT NULL AND NOT EXISTS (
                 SELECT 1 FROM t p WHERE p.exchange_id = c.exchange_id AND p.span_id = c.parent_span_id)) AS dangling,
              (SELECT count(*) FROM t c JOIN t p ON p.exchange_id = c.exchange_id AND p.span_id = c.parent_span_id
                 WHERE c.started_at < p.started_at OR c.ended_at > p.ended_at OR c.ended_at < c.started_at) AS outside,
              (SELECT count(*) FROM t WHERE started_at IS NULL OR ended_at IS NULL) AS no_time,
              (SELECT count(*) FROM t WHERE kind = 'subagent') AS subagents,
              (SELECT count(*) FROM t WHERE clamped) AS clamped,
              (SELECT count(*) FROM t) AS spans`,
    );
    console.log(
      `span tree check: ${v!.spans} spans in ${v!.exchanges} exchanges, ${v!.subagents} sub-agent spans, ${v!.clamped} clamped`,
    );
    expect(v!.roots).toBe(v!.exchanges);
    expect([v!.bad_roots, v!.duplicate_ids, v!.dangling, v!.outside, v!.no_time]).toEqual([0, 0, 0, 0, 0]);
    expect(Number(v!.subagents)).toBeGreaterThan(0);
    const order = await rows(
      store,
      `SELECT count(*) AS n FROM (SELECT exchange_id, span_index, started_at,
         lag(started_at) OVER (PARTITION BY exchange_id ORDER BY span_index) AS prev FROM exchange_traces) WHERE started_at < prev`,
    );
    expect(order[0]!.n).toBe(0);
    const st = await rows(
      store,
      `SELECT count(*) - count(DISTINCT (session_id, span_id)) AS dup FROM session_traces`,
    );
    expect(st[0]!.dup).toBe(0);
  });

  it('incremental derivation of some sessions gives exactly what a full derivation gives', async () => {
    await deriveAll(store.conn);
    const full = await fingerprint();
    const some = (await rows(store, 'SELECT session_id FROM sessions ORDER BY created_at LIMIT 5')).map((r) =>
      String(r.session_id),
    );
    const child = (
      await rows(store, 'SELECT session_id FROM sessions WHERE parent_session_id IS NOT NULL LIMIT 1')
    ).map((r) => String(r.session_id));
    const r = await deriveForSessions(store.conn, [...some, ...child]);
    expect(r.mode).toBe('sessions');
    expect(await fingerprint()).toEqual(full);
  });

  it('reports answer from the model', async () => {
    for (const name of ['sessions', 'daily', 'models', 'tools', 'errors'] as const) {
      const out = await runReport(store.conn, name, {});
      expect(out.rows.length, name).toBeGreaterThan(0);
    }
    const since = await runReport(store.conn, 'daily', { since: '2100-01-01' });
    expect(since.rows).toEqual([]);
  });
});

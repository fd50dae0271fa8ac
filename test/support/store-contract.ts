/**
 * The store contract, as vitest cases: ingest an OpenCode data dir with `ocbridge ingest`, then compare
 * the DuckDB store (through `ocbridge query`) with what OpenCode itself wrote (opencode-truth.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocbridgeIngest, ocbridgeQuery, type Row } from './ocbridge-cli.ts';
import {
  countBy,
  errorNames,
  messageCost,
  messageTokens,
  readTruth,
  type Tokens,
  type Truth,
  toolParts,
} from './opencode-truth.ts';

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function defineStoreContract(name: string, getDataDir: () => string): void {
  describe(name, () => {
    let truth: Truth;
    let dir: string;
    let db: string;
    const q = (sql: string): Promise<Row[]> => ocbridgeQuery(db, sql);

    beforeAll(async () => {
      truth = readTruth(getDataDir());
      dir = mkdtempSync(join(tmpdir(), 'ocbridge-contract-'));
      db = join(dir, 'store.duckdb');
      await ocbridgeIngest(getDataDir(), db);
    }, 180_000);

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('has every session, message and part once (deduplicated across JSON and DB)', async () => {
      const [row] = await q(
        `SELECT (SELECT count(DISTINCT session_id) FROM sessions) AS sessions,
                (SELECT count(DISTINCT message_id) FROM messages) AS messages,
                (SELECT count(DISTINCT part_id) FROM parts) AS parts`,
      );
      expect({ sessions: n(row?.sessions), messages: n(row?.messages), parts: n(row?.parts) }).toEqual({
        sessions: truth.sessions.size,
        messages: truth.messages.size,
        parts: truth.parts.size,
      });
      const ids = await q('SELECT session_id FROM sessions ORDER BY 1');
      expect(ids.map((r) => s(r.session_id))).toEqual([...truth.sessions.keys()].sort());
    });

    it('has no duplicate rows per ID', async () => {
      const [row] = await q(
        `SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM messages) AS messages,
                (SELECT count(*) FROM parts) AS parts`,
      );
      expect({ sessions: n(row?.sessions), messages: n(row?.messages), parts: n(row?.parts) }).toEqual({
        sessions: truth.sessions.size,
        messages: truth.messages.size,
        parts: truth.parts.size,
      });
    });

    it('has the part types OpenCode wrote', async () => {
      const rows = await q('SELECT part_type, count(*) AS n FROM parts GROUP BY part_type');
      const got = Object.fromEntries(rows.map((r) => [s(r.part_type), n(r.n)]));
      expect(got).toEqual(countBy(truth.parts.values(), (p) => String(p.data.type)));
    });

    it('has per-message tokens (sum of step-finish parts, else message tokens) and cost', async () => {
      const rows = await q(
        `SELECT message_id, role, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,
                cache_write_tokens, cost_usd FROM messages`,
      );
      const got = new Map(rows.map((r) => [String(r.message_id), r]));
      const want = messageTokens(truth);
      const mismatches: unknown[] = [];
      for (const [id, tk] of want) {
        const r = got.get(id);
        const g: Tokens = {
          input: n(r?.input_tokens),
          output: n(r?.output_tokens),
          reasoning: n(r?.reasoning_tokens),
          cacheRead: n(r?.cache_read_tokens),
          cacheWrite: n(r?.cache_write_tokens),
        };
        const cost = messageCost(truth.messages.get(id)!);
        if (!r || JSON.stringify(g) !== JSON.stringify(tk) || Math.abs(n(r.cost_usd) - cost) > 1e-9) {
          mismatches.push({ id, want: { ...tk, cost }, got: r ? { ...g, cost: n(r.cost_usd) } : 'missing' });
        }
      }
      expect(mismatches).toEqual([]);
      const roles = countBy(rows, (r) => String(r.role));
      expect(roles).toEqual(countBy(truth.messages.values(), (m) => String(m.data.role)));
    });

    it('has tool calls by status, with the sub-agent session of each task call', async () => {
      const truthTools = toolParts(truth);
      const byStatus = await q('SELECT status, count(*) AS n FROM tool_calls GROUP BY status');
      expect(Object.fromEntries(byStatus.map((r) => [s(r.status), n(r.n)]))).toEqual(
        countBy(truthTools, (x) => x.status),
      );
      const byTool = await q(
        'SELECT tool_name, status, count(*) AS n FROM tool_calls GROUP BY tool_name, status',
      );
      expect(Object.fromEntries(byTool.map((r) => [`${s(r.tool_name)}/${s(r.status)}`, n(r.n)]))).toEqual(
        countBy(truthTools, (x) => `${x.tool}/${x.status}`),
      );
      const tasks = await q(
        "SELECT part_id, call_id, child_session_id FROM tool_calls WHERE tool_name = 'task' ORDER BY part_id",
      );
      expect(
        tasks.map((r) => ({ part: s(r.part_id), call: s(r.call_id), child: s(r.child_session_id) })),
      ).toEqual(
        truthTools
          .filter((x) => x.tool === 'task')
          .sort((a, b) => (a.partId < b.partId ? -1 : 1))
          .map((x) => ({ part: x.partId, call: x.callId ?? null, child: x.childSessionId ?? null })),
      );
    });

    it('links sub-agent sessions to their parent (parent_session_id)', async () => {
      const rows = await q('SELECT session_id, parent_session_id FROM sessions');
      expect(Object.fromEntries(rows.map((r) => [String(r.session_id), s(r.parent_session_id)]))).toEqual(
        Object.fromEntries([...truth.sessions.values()].map((x) => [x.id, x.parentId ?? null])),
      );
      expect([...truth.sessions.values()].filter((x) => x.parentId).length).toBeGreaterThan(0);
    });

    it('has the error name of every failed message', async () => {
      const rows = await q('SELECT message_id, error_name FROM messages WHERE error_name IS NOT NULL');
      expect(Object.fromEntries(rows.map((r) => [String(r.message_id), s(r.error_name)]))).toEqual(
        Object.fromEntries(errorNames(truth)),
      );
    });
  });
}

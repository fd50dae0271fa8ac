/**
 * Step timing from part times (docs/schema.md "Step timing"): an LLM call starts at its step-start part
 * and ends at its step-finish part, both read from the creation time every v1 part ID encodes (JSON tree
 * and SQLite); a step that never finished ends at its last part; other IDs keep the message-time rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { DataDir, rows, stepFinish, stepStart, T0, text, tool } from './support/analytics.ts';

const MASK48 = (1n << 48n) - 1n;
let n = 0;
/** A part ID as OpenCode makes it at epoch ms `ms` (12 hex of (ms·4096 + counter) mod 2^48, 14 base62). */
const pid = (ms: number) =>
  `prt_${((BigInt(ms) * 4096n + 1n) & MASK48).toString(16).padStart(12, '0')}${String(++n).padStart(14, 'A')}`;
const iso = (ms: number) => new Date(ms).toISOString();
const WRAP = 2 ** 36 * 26; // 2026-08-14T11:19:55.136Z: the encoded clock restarts at 0

type Case = { created: number; completed: number | null; parts: [number, Record<string, unknown>][] };
/** One assistant message per case, each in its own session, all ingested once. */
const CASES: Record<string, Case> = {
  finished: {
    created: T0,
    completed: T0 + 9000,
    parts: [
      [T0 + 3000, stepStart()],
      [T0 + 3100, text(T0 + 3100, T0 + 3200)],
      [T0 + 3300, tool('read', T0 + 3300, T0 + 3500)],
      [T0 + 4000, stepFinish({ input: 1 }, 0, 'tool-calls')],
      [T0 + 4100, stepStart()],
      [T0 + 4200, text(T0 + 4200, T0 + 5900)],
      [T0 + 6000, stepFinish({ input: 2 })],
    ],
  },
  unfinished: {
    created: T0,
    completed: null,
    parts: [
      [T0 + 2000, stepStart()],
      [T0 + 2500, tool('bash', T0 + 2500, T0 + 2700)],
      [T0 + 3000, text(T0 + 3000, T0 + 3100)],
    ],
  },
  wrap: {
    created: WRAP - 1000,
    completed: WRAP + 800,
    parts: [
      [WRAP - 500, stepStart()],
      [WRAP + 700, stepFinish({ input: 1 })],
    ],
  },
};

let store: Store;
beforeAll(async () => {
  const d = new DataDir().project();
  for (const [name, c] of Object.entries(CASES)) {
    d.session(`ses_${name}`);
    d.user(`ses_${name}`, `msg_u_${name}`, c.created - 50);
    d.assistant(
      `ses_${name}`,
      `msg_a_${name}`,
      `msg_u_${name}`,
      { created: c.created, completed: c.completed },
      [],
    );
    for (const [ms, data] of c.parts) d.part(`ses_${name}`, `msg_a_${name}`, data, pid(ms));
  }
  store = await d.ingest();
}, 60_000);
afterAll(() => store?.close());

async function stepTimes(name: string) {
  const steps = await rows(
    store,
    `SELECT started_at, ended_at, duration_ms FROM steps WHERE message_id = 'msg_a_${name}' ORDER BY step_index`,
  );
  const spans = await rows(
    store,
    `SELECT started_at, ended_at FROM exchange_traces WHERE kind = 'llm_call' AND message_id = 'msg_a_${name}'
     ORDER BY started_at`,
  );
  expect(spans.map((s) => [s.started_at, s.ended_at])).toEqual(steps.map((s) => [s.started_at, s.ended_at]));
  return steps.map((s) => [s.started_at, s.ended_at, Number(s.duration_ms)]);
}

describe('step timing from part times', () => {
  it('each LLM call runs from its step-start part to its step-finish part, not from the message creation', async () => {
    const t = await stepTimes('finished');
    expect(t).toEqual([
      [iso(T0 + 3000), iso(T0 + 4000), 1000],
      [iso(T0 + 4100), iso(T0 + 6000), 1900],
    ]);
  });

  it('a step that never finished ends at its last part (or the content end, whichever is later)', async () => {
    const t = await stepTimes('unfinished');
    expect(t).toEqual([[iso(T0 + 2000), iso(T0 + 3100), 1100]]);
  });

  it("part IDs are read in the 795-day window of the message's creation (across the 2026-08-14 wrap)", async () => {
    const t = await stepTimes('wrap');
    expect(t).toEqual([[iso(WRAP - 500), iso(WRAP + 700), 1200]]);
  });
});

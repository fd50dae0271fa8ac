/**
 * Round trip: a generated corpus (every storage generation, with importer copies and 2.x upgrades)
 * ingested gives exactly the counts and token sums the generator wrote in its manifest.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../src/gen/index.ts';
import type { Store } from '../src/store/db.ts';
import { tempDir } from './support/datadir.ts';
import { ingestInto, rows } from './support/store.ts';

for (const layout of ['mixed', 'json', 'v1', 'v2'] as const) {
  describe(`round trip, ${layout} layout`, () => {
    let store: Store;
    let m: Awaited<ReturnType<typeof generateCorpus>>;
    beforeAll(async () => {
      const dir = join(tempDir('ocb-rt-'), 'data');
      m = await generateCorpus({ out: dir, sessions: 14, seed: 7, layout });
      ({ store } = await ingestInto(dir));
    }, 120_000);
    afterAll(() => store?.close());

    it('stores every session, message, part and tool call once', async () => {
      const t = m.totals;
      const v2Items = Object.values(t.v2OnlyContentByType ?? {}).reduce((a: number, b) => a + Number(b), 0);
      const [c] = await rows(
        store,
        `SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM messages) AS messages,
                (SELECT count(*) FROM parts) AS parts, (SELECT count(*) FROM tool_calls) AS tool_calls,
                (SELECT count(*) FROM sessions WHERE parent_session_id IS NOT NULL) AS children`,
      );
      expect(c).toEqual({
        sessions: t.sessions,
        messages: t.messages,
        parts: t.parts + v2Items,
        tool_calls: t.toolCalls,
        children: t.childSessions,
      });
    });

    it('gives the token sums and the recorded cost the generator wrote', async () => {
      const [s] = await rows(
        store,
        `SELECT sum(input_tokens) AS input, sum(output_tokens) AS output, sum(reasoning_tokens) AS reasoning,
                sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write, sum(cost_usd) AS cost
         FROM messages WHERE role = 'assistant'`,
      );
      const { cost, ...tokens } = s as Record<string, number>;
      expect(tokens).toEqual(m.totals.tokens);
      expect(cost).toBeCloseTo(m.totals.cost, 6);
      expect(await rows(store, "SELECT count(*) AS n FROM ingest_errors WHERE severity = 'error'")).toEqual([
        { n: 0 },
      ]);
    });
  });
}

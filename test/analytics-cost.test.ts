import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPricingSnapshot, type ModelPrice } from '../src/domain/pricing/index.ts';
import type { Store } from '../src/store/db.ts';
import { deriveAll, updatePricingFromFiles } from '../src/store/derive/index.ts';
import { DataDir, rows, stepFinish, stepStart, T0, type Tok } from './support/analytics.ts';

let store: Store | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

/** OpenCode's own cost (session.ts getUsage), written independently: models.dev prices, context tiers. */
function openCodeCost(m: ModelPrice, t: Required<Tok>): number {
  const context = t.input + t.read + t.write;
  const tier = [...m.tiers]
    .sort((a, b) => b.min_context_tokens - a.min_context_tokens)
    .find((x) => context > x.min_context_tokens);
  const p = tier ?? m;
  return (
    (t.input * p.input +
      t.output * p.output +
      t.read * p.cache_read +
      t.write * p.cache_write +
      t.reasoning * p.output) /
    1e6
  );
}

const USAGES: Record<string, Required<Tok>> = {
  cache: { input: 2_000, output: 1_500, reasoning: 0, read: 120_000, write: 20_000 },
  reasoning: { input: 20_000, output: 3_000, reasoning: 6_000, read: 10_000, write: 0 },
  over_200k: { input: 50_000, output: 4_000, reasoning: 1_000, read: 200_000, write: 10_000 },
};

describe('computed cost', () => {
  it('agrees with the recorded cost within ±5% for every model in the snapshot (cache, reasoning, tiers)', async () => {
    const snap = loadPricingSnapshot();
    const d = new DataDir().project().session('ses_a');
    let i = 0;
    const expected: Array<{
      id: string;
      provider: string;
      model: string;
      cost: number;
      subscription: boolean;
    }> = [];
    for (const [provider, p] of Object.entries(snap.providers)) {
      for (const [model, m] of Object.entries(p.models)) {
        for (const [name, u] of Object.entries(USAGES)) {
          const n = String(++i).padStart(5, '0');
          const cost = p.billing === 'subscription' ? 0 : openCodeCost(m, u);
          d.user('ses_a', `msg_${n}u`, T0 + i * 1000);
          d.assistant(
            'ses_a',
            `msg_${n}a`,
            `msg_${n}u`,
            { created: T0 + i * 1000 + 10, provider, model, tokens: u, cost },
            [stepStart(), stepFinish(u, cost)],
          );
          expected.push({
            id: `msg_${n}a`,
            provider,
            model: `${model} (${name})`,
            cost,
            subscription: p.billing === 'subscription',
          });
        }
      }
    }
    store = await d.ingest();
    const got = new Map(
      (
        await rows(
          store,
          "SELECT message_id, cost_usd, computed_cost_usd FROM message_facts WHERE role = 'assistant'",
        )
      ).map((r) => [r.message_id as string, r]),
    );
    let within = 0;
    let compared = 0;
    const misses: string[] = [];
    for (const e of expected) {
      const r = got.get(e.id)!;
      const computed = Number(r.computed_cost_usd);
      if (e.subscription) {
        // subscription: OpenCode records 0, the computed (API-equivalent) cost makes it visible
        expect(computed, `${e.provider}/${e.model}`).toBeGreaterThan(0);
        continue;
      }
      if (e.cost === 0) {
        expect(computed, `${e.provider}/${e.model} (free)`).toBe(0);
        continue;
      }
      compared++;
      if (Math.abs(computed - e.cost) <= 0.05 * e.cost) within++;
      else misses.push(`${e.provider}/${e.model}: recorded ${e.cost} computed ${computed}`);
    }
    console.log(
      `computed vs recorded cost: ${within}/${compared} within ±5% (${expected.length} messages, every snapshot model × ${Object.keys(USAGES).length} usages)`,
    );
    expect(misses).toEqual([]);
    expect(compared).toBeGreaterThan(60);
    // exchange and session sums are the same numbers
    const [t] = await rows(
      store,
      'SELECT (SELECT sum(computed_cost_usd) FROM exchanges) AS ex, (SELECT sum(computed_cost_usd) FROM message_facts) AS mf, (SELECT computed_cost_usd FROM session_resource_metrics) AS s, (SELECT sum(computed_cost_usd) FROM daily_stats) AS day',
    );
    expect(Number(t!.ex)).toBeCloseTo(Number(t!.mf), 6);
    expect(Number(t!.s)).toBeCloseTo(Number(t!.mf), 6);
    expect(Number(t!.day)).toBeCloseTo(Number(t!.mf), 6);
  });

  it('prices each step at its own context tier; user overrides change the computed cost', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    // Sonnet 4.5: step 1 at 150K context (base), step 2 at 250K (>200K tier)
    d.assistant(
      'ses_a',
      'msg_a1',
      'msg_u1',
      { created: T0 + 10, provider: 'anthropic', model: 'claude-sonnet-4-5' },
      [
        stepStart(),
        stepFinish({ input: 150_000, output: 1_000 }),
        stepStart(),
        stepFinish({ input: 250_000, output: 1_000 }),
      ],
    );
    store = await d.ingest();
    const steps = await rows(
      store,
      'SELECT step_index, tier_min_context_tokens, computed_cost_usd FROM steps ORDER BY step_index',
    );
    expect(steps.map((s) => s.tier_min_context_tokens)).toEqual([0, 200_000]);
    const m = loadPricingSnapshot().providers.anthropic!.models['claude-sonnet-4-5']!;
    const tier = m.tiers[0]!;
    expect(Number(steps[0]!.computed_cost_usd)).toBeCloseTo((150_000 * m.input + 1_000 * m.output) / 1e6, 9);
    expect(Number(steps[1]!.computed_cost_usd)).toBeCloseTo(
      (250_000 * tier.input + 1_000 * tier.output) / 1e6,
      9,
    );

    const overrides = join(d.dir, 'prices.json');
    writeFileSync(
      overrides,
      JSON.stringify({
        schema_version: 1,
        currency: 'USD',
        unit: 'per_1m_tokens',
        as_of: '2026-11-01',
        providers: {
          anthropic: { models: { 'claude-sonnet-4-5': { input: 1, output: 1, source: 'test' } } },
        },
      }),
    );
    await updatePricingFromFiles(store.conn, undefined, [overrides]);
    await deriveAll(store.conn);
    const [e] = await rows(store, 'SELECT computed_cost_usd FROM exchanges');
    expect(Number(e!.computed_cost_usd)).toBeCloseTo(402_000 / 1e6, 9);
  });
});

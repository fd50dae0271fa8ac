import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeCostUsd,
  contextTokensOf,
  loadPricing,
  loadPricingSnapshot,
  type ModelPrice,
  messageCostSql,
  normalizeModelId,
  type PricingRow,
  resolvePrice,
  resolvePriceKey,
  selectTier,
  type TokenUsage,
} from '../src/domain/pricing/index.ts';
import { createPricingTables, insertPricingRows, syncPriceKeys } from '../src/store/derive/pricing.ts';

const snapshot = loadPricingSnapshot();
const rows = loadPricing();
const models = Object.entries(snapshot.providers).flatMap(([providerId, p]) =>
  Object.entries(p.models).map(([modelId, model]) => ({ providerId, modelId, model })),
);

// ---------------------------------------------------------------------------------------------
// OpenCode's own computation (session.ts getUsage, AI SDK v6 era), re-implemented independently:
// raw AI SDK usage → recorded tokens, and models.dev's cost object → price with tiers.
// ---------------------------------------------------------------------------------------------
interface RawUsage {
  inputTokens: number; // includes cached tokens (AI SDK v6)
  outputTokens: number; // includes reasoning
  reasoningTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
}
interface ModelsDevCost {
  input: number;
  output: number;
  cache: { read: number; write: number };
  tiers?: Array<{
    tier: { type: 'context'; size: number };
    input: number;
    output: number;
    cache: { read: number; write: number };
  }>;
}

function modelsDevCost(m: ModelPrice): ModelsDevCost {
  return {
    input: m.input,
    output: m.output,
    cache: { read: m.cache_read, write: m.cache_write },
    tiers: m.tiers.map((t) => ({
      tier: { type: 'context', size: t.min_context_tokens },
      input: t.input,
      output: t.output,
      cache: { read: t.cache_read, write: t.cache_write },
    })),
  };
}

function openCodeUsage(cost: ModelsDevCost, usage: RawUsage): { cost: number; tokens: TokenUsage } {
  const safe = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);
  const tokens = {
    input: safe(usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens),
    output: safe(usage.outputTokens - usage.reasoningTokens),
    reasoning: usage.reasoningTokens,
    cache: { read: usage.cachedInputTokens, write: usage.cacheWriteTokens },
  };
  const contextTokens = usage.inputTokens;
  const tier = cost.tiers
    ?.filter((t) => t.tier.type === 'context' && contextTokens > t.tier.size)
    .sort((a, b) => b.tier.size - a.tier.size)[0];
  const c = tier ?? cost;
  const total =
    (tokens.input * c.input) / 1_000_000 +
    (tokens.output * c.output) / 1_000_000 +
    (tokens.cache.read * c.cache.read) / 1_000_000 +
    (tokens.cache.write * c.cache.write) / 1_000_000 +
    (tokens.reasoning * c.output) / 1_000_000;
  return { cost: total, tokens };
}

/** One fixture per rule of the formula. */
const SCENARIOS: Record<string, RawUsage> = {
  plain: {
    inputTokens: 12_000,
    outputTokens: 800,
    reasoningTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
  },
  cache: {
    inputTokens: 150_000,
    outputTokens: 2_000,
    reasoningTokens: 0,
    cachedInputTokens: 120_000,
    cacheWriteTokens: 20_000,
  },
  reasoning: {
    inputTokens: 30_000,
    outputTokens: 9_000,
    reasoningTokens: 6_000,
    cachedInputTokens: 10_000,
    cacheWriteTokens: 0,
  },
  at_200k: {
    inputTokens: 200_000,
    outputTokens: 1_000,
    reasoningTokens: 0,
    cachedInputTokens: 150_000,
    cacheWriteTokens: 0,
  },
  over_200k: {
    inputTokens: 260_000,
    outputTokens: 4_000,
    reasoningTokens: 1_000,
    cachedInputTokens: 200_000,
    cacheWriteTokens: 10_000,
  },
};

describe('snapshot', () => {
  it('validates and prices at least 30 models, each with a source', () => {
    expect(models.length).toBeGreaterThanOrEqual(30);
    for (const { model } of models) expect(model.source.length).toBeGreaterThan(10);
    expect(snapshot.as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(snapshot.sources)).toEqual(expect.arrayContaining(['models.dev', 'litellm']));
  });

  it('covers the providers OpenCode users use', () => {
    for (const p of [
      'anthropic',
      'openai',
      'google',
      'openrouter',
      'amazon-bedrock',
      'google-vertex',
      'opencode',
      'github-copilot',
    ]) {
      expect(snapshot.providers[p], p).toBeDefined();
    }
    for (const m of [
      'claude-sonnet-4-5',
      'claude-sonnet-4',
      'claude-opus-4-1',
      'claude-opus-4',
      'claude-haiku-4-5',
      'claude-3-5-haiku',
      'claude-3-7-sonnet',
    ]) {
      expect(snapshot.providers.anthropic!.models[m], m).toBeDefined();
    }
    for (const m of [
      'gpt-5',
      'gpt-5-mini',
      'gpt-5-nano',
      'gpt-4.1',
      'gpt-4.1-mini',
      'gpt-4o',
      'o3',
      'o4-mini',
      'gpt-5-codex',
    ]) {
      expect(snapshot.providers.openai!.models[m], m).toBeDefined();
    }
    expect(snapshot.providers.google!.models['gemini-2.5-pro']!.tiers).toHaveLength(1);
  });

  it('flattens to one row per tier with the documented columns', () => {
    const sonnet = rows.filter((r) => r.provider_id === 'anthropic' && r.model_id === 'claude-sonnet-4-5');
    expect(sonnet.map((r) => r.tier_min_context_tokens).sort((a, b) => a - b)).toEqual([0, 200_000]);
    expect(Object.keys(sonnet[0]!).sort()).toEqual(
      [
        'aliases',
        'as_of',
        'cache_read_per_mtok',
        'cache_write_per_mtok',
        'input_per_mtok',
        'model_id',
        'output_per_mtok',
        'provider_id',
        'source',
        'tier_min_context_tokens',
      ].sort(),
    );
  });

  it('rejects a malformed snapshot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pricing-'));
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(
        bad,
        JSON.stringify({
          schema_version: 1,
          currency: 'USD',
          unit: 'per_1m_tokens',
          as_of: '2026-01-01',
          providers: { x: { models: { m: { input: -1, output: 1, source: 's' } } } },
        }),
      );
      expect(() => loadPricing(bad)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('merges a user override file per provider+model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pricing-'));
    try {
      const file = join(dir, 'override.json');
      writeFileSync(
        file,
        JSON.stringify({
          schema_version: 1,
          currency: 'USD',
          unit: 'per_1m_tokens',
          as_of: '2026-12-01',
          providers: {
            anthropic: {
              models: { 'claude-sonnet-4-5': { input: 2, output: 10, source: 'negotiated contract' } },
            },
            'my-proxy': { models: { 'house-model': { input: 1, output: 2, source: 'internal' } } },
          },
        }),
      );
      const merged = loadPricing(undefined, file);
      const sonnet = merged.filter(
        (r) => r.provider_id === 'anthropic' && r.model_id === 'claude-sonnet-4-5',
      );
      expect(sonnet).toHaveLength(1); // the override has no tier, so the >200K tier is gone too
      expect(sonnet[0]).toMatchObject({
        input_per_mtok: 2,
        output_per_mtok: 10,
        source: 'negotiated contract',
        as_of: '2026-12-01',
      });
      expect(merged.find((r) => r.model_id === 'house-model')).toBeDefined();
      expect(merged.length).toBe(rows.length - 2 + 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tier selection', () => {
  const sonnet = (ctx: number) => resolvePrice(rows, 'anthropic', 'claude-sonnet-4-5', ctx)!;
  it('uses the base price up to and including 200K, the tier above', () => {
    expect(sonnet(0).tier_min_context_tokens).toBe(0);
    expect(sonnet(200_000).tier_min_context_tokens).toBe(0);
    expect(sonnet(200_001).tier_min_context_tokens).toBe(200_000);
    expect(sonnet(200_001).input_per_mtok).toBe(6);
  });

  it('picks the largest tier below the context size', () => {
    const tiers = [0, 200_000, 500_000].map((t) => ({ tier_min_context_tokens: t }));
    expect(selectTier(tiers, 100)?.tier_min_context_tokens).toBe(0);
    expect(selectTier(tiers, 300_000)?.tier_min_context_tokens).toBe(200_000);
    expect(selectTier(tiers, 900_000)?.tier_min_context_tokens).toBe(500_000);
  });

  it('computes context as input + cache read + cache write', () => {
    expect(contextTokensOf({ input: 10, output: 5, cache: { read: 190_000, write: 10_000 } })).toBe(200_010);
  });
});

describe('alias resolution', () => {
  const cases: Array<[string, string, string, string]> = [
    ['anthropic', 'claude-sonnet-4-5-20250929', 'anthropic', 'claude-sonnet-4-5'],
    ['anthropic', 'claude-sonnet-4-0', 'anthropic', 'claude-sonnet-4'],
    ['anthropic', 'claude-3-7-sonnet-latest', 'anthropic', 'claude-3-7-sonnet'],
    ['openai', 'gpt-4.1-2025-04-14', 'openai', 'gpt-4.1'],
    ['openrouter', 'anthropic/claude-sonnet-4.5', 'openrouter', 'anthropic/claude-sonnet-4.5'],
    ['openrouter', 'anthropic/claude-opus-4.1', 'anthropic', 'claude-opus-4-1'],
    ['openrouter', 'openai/gpt-4o-mini', 'openai', 'gpt-4o-mini'],
    ['openrouter', 'google/gemini-2.5-flash', 'google', 'gemini-2.5-flash'],
    ['github-copilot', 'claude-sonnet-4.5', 'anthropic', 'claude-sonnet-4-5'],
    ['github-copilot', 'claude-opus-41', 'anthropic', 'claude-opus-4-1'],
    ['github-copilot', 'claude-3.7-sonnet-thought', 'anthropic', 'claude-3-7-sonnet'],
    ['github-copilot', 'gpt-4.1', 'openai', 'gpt-4.1'],
    ['amazon-bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic', 'claude-sonnet-4'],
    [
      'amazon-bedrock',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'amazon-bedrock',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
    ],
    ['google-vertex-anthropic', 'claude-opus-4-1@20250805', 'anthropic', 'claude-opus-4-1'],
    ['google-vertex', 'models/gemini-2.5-flash', 'google', 'gemini-2.5-flash'],
    ['opencode', 'claude-haiku-4-5', 'anthropic', 'claude-haiku-4-5'],
    ['opencode', 'gpt-5', 'opencode', 'gpt-5'],
    ['azure', 'gpt-4o', 'openai', 'gpt-4o'],
  ];
  it.each(cases)('%s %s → %s/%s', (provider, model, priceProvider, priceModel) => {
    const key = resolvePriceKey(rows, provider, model);
    expect(key).toMatchObject({ provider_id: priceProvider, model_id: priceModel });
  });

  it('marks subscription and free usage', () => {
    expect(resolvePrice(rows, 'github-copilot', 'claude-sonnet-4.5', 1000)!.subscription).toBe(true);
    const free = resolvePrice(rows, 'openrouter', 'google/gemini-2.5-pro:free', 1000)!;
    expect(free.match).toBe('free');
    expect(computeCostUsd(free, { input: 1000, output: 1000 })).toBe(0);
    expect(
      computeCostUsd(resolvePrice(rows, 'opencode', 'big-pickle', 1000)!, { input: 1000, output: 1000 }),
    ).toBe(0);
  });

  it('returns undefined for unknown models', () => {
    expect(resolvePrice(rows, 'ollama', 'qwen3:32b', 1000)).toBeUndefined();
    expect(resolvePrice(rows, 'anthropic', 'claude-unknown-9', 1000)).toBeUndefined();
  });

  it('normalises idempotently', () => {
    for (const [, model] of cases)
      expect(normalizeModelId(normalizeModelId(model))).toBe(normalizeModelId(model));
  });
});

describe('computed cost in DuckDB', () => {
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  interface Case {
    id: string;
    providerId: string;
    modelId: string;
    scenario: string;
    tokens: TokenUsage;
    expectedOpenCode: number;
    tiered: boolean;
  }
  const cases: Case[] = [];
  for (const { providerId, modelId, model } of models) {
    for (const [scenario, usage] of Object.entries(SCENARIOS)) {
      const oc = openCodeUsage(modelsDevCost(model), usage);
      cases.push({
        id: `${providerId}|${modelId}|${scenario}`,
        providerId,
        modelId,
        scenario,
        tokens: oc.tokens,
        expectedOpenCode: oc.cost,
        tiered: model.tiers.length > 0,
      });
    }
  }
  let sqlById = new Map<string, { cost: number | null; tier: number | null }>();

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
    await createPricingTables(conn);
    await insertPricingRows(conn, rows);
    await conn.run(`CREATE TABLE message_tokens (
      id VARCHAR, provider_id VARCHAR, model_id VARCHAR,
      input_tokens BIGINT, output_tokens BIGINT, reasoning_tokens BIGINT, cache_read_tokens BIGINT, cache_write_tokens BIGINT)`);
    const insert = await conn.prepare('INSERT INTO message_tokens VALUES ($1, $2, $3, $4, $5, $6, $7, $8)');
    for (const c of cases) {
      insert.bind([
        c.id,
        c.providerId,
        c.modelId,
        c.tokens.input,
        c.tokens.output,
        c.tokens.reasoning ?? 0,
        c.tokens.cache?.read ?? 0,
        c.tokens.cache?.write ?? 0,
      ]);
      await insert.run();
    }
    insert.destroySync();
    await syncPriceKeys(conn, rows, 'message_tokens');
    await conn.run(`CREATE VIEW message_cost AS ${messageCostSql('message_tokens')}`);
    const reader = await conn.runAndReadAll(
      'SELECT id, computed_cost_usd, tier_min_context_tokens FROM message_cost',
    );
    sqlById = new Map(
      reader.getRowObjectsJS().map((r) => [
        String(r.id),
        {
          cost: r.computed_cost_usd === null ? null : Number(r.computed_cost_usd),
          tier: r.tier_min_context_tokens === null ? null : Number(r.tier_min_context_tokens),
        },
      ]),
    );
  });

  afterAll(() => {
    conn?.closeSync();
    instance?.closeSync();
  });

  it('stores every snapshot row in model_pricing', async () => {
    const reader = await conn.runAndReadAll(
      "SELECT count(*)::INTEGER AS n, min(strftime(as_of, '%Y-%m-%d')) AS d FROM model_pricing",
    );
    const row = reader.getRowObjectsJS()[0]!;
    expect(row.n).toBe(rows.length);
    expect(row.d).toBe(snapshot.as_of);
  });

  it('prices every row of the view (one output row per input row)', () => {
    expect(sqlById.size).toBe(cases.length);
  });

  it.each(Object.keys(SCENARIOS))(
    'scenario %s: SQL = computeCostUsd, and within 5 percent of OpenCode, for every model',
    (scenario) => {
      for (const c of cases.filter((x) => x.scenario === scenario)) {
        const price = resolvePrice(rows, c.providerId, c.modelId, contextTokensOf(c.tokens));
        expect(price, c.id).toBeDefined();
        const ts = computeCostUsd(price!, c.tokens);
        const sql = sqlById.get(c.id)!;
        expect(sql.cost, c.id).not.toBeNull();
        expect(sql.cost!, c.id).toBeCloseTo(ts, 12);
        expect(sql.tier, c.id).toBe(price!.tier_min_context_tokens);
        if (c.expectedOpenCode === 0) expect(ts, c.id).toBe(0);
        else expect(Math.abs(ts - c.expectedOpenCode) / c.expectedOpenCode, c.id).toBeLessThanOrEqual(0.05);
      }
    },
  );

  it('applies the >200K tier exactly for tiered models, and never at exactly 200K', () => {
    for (const c of cases.filter((x) => x.tiered)) {
      const tier = sqlById.get(c.id)!.tier;
      expect(tier, c.id).toBe(c.scenario === 'over_200k' ? 200_000 : 0);
    }
  });

  it('prices OpenCode spellings through model_price_key, and leaves unknown models NULL', async () => {
    await conn.run(`CREATE TABLE other_tokens AS SELECT * FROM (VALUES
      ('a', 'openrouter', 'anthropic/claude-opus-4.1', 1000, 100, 0, 0, 0),
      ('b', 'github-copilot', 'claude-sonnet-4.5', 250000, 100, 0, 0, 0),
      ('c', 'openrouter', 'google/gemini-2.5-pro:free', 1000, 100, 0, 0, 0),
      ('d', 'ollama', 'qwen3:32b', 1000, 100, 0, 0, 0)
    ) AS v(id, provider_id, model_id, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens)`);
    expect(await syncPriceKeys(conn, rows, 'other_tokens')).toBe(3);
    expect(await syncPriceKeys(conn, rows, 'other_tokens')).toBe(0);
    const reader = await conn.runAndReadAll(
      `SELECT id, computed_cost_usd AS c FROM (${messageCostSql('other_tokens')}) ORDER BY id`,
    );
    const got = reader.getRowObjectsJS().map((r) => [r.id, r.c === null ? null : Number(r.c)]);
    expect(got[0]![1]).toBeCloseTo((1000 * 15 + 100 * 75) / 1e6, 12);
    expect(got[1]![1]).toBeCloseTo((250000 * 6 + 100 * 22.5) / 1e6, 12);
    expect(got[2]![1]).toBe(0);
    expect(got[3]![1]).toBeNull();
  });

  it('docs/pricing.md shows exactly the view SQL that is tested here', () => {
    const doc = readFileSync(new URL('../docs/pricing.md', import.meta.url), 'utf8');
    expect(doc).toContain(messageCostSql('message_tokens'));
  });

  it('matches a hand-computed example (Sonnet 4.5 over 200K with cache and reasoning)', () => {
    const tokens: TokenUsage = {
      input: 50_000,
      output: 3_000,
      reasoning: 1_000,
      cache: { read: 200_000, write: 10_000 },
    };
    const price: PricingRow = resolvePrice(rows, 'anthropic', 'claude-sonnet-4-5', contextTokensOf(tokens))!;
    // (50000·6 + 3000·22.5 + 200000·0.6 + 10000·7.5 + 1000·22.5) / 1e6
    expect(computeCostUsd(price, tokens)).toBeCloseTo(0.585, 12);
  });
});

import { z } from 'zod';

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const Usd = z.number().finite().nonnegative();

/** Prices in USD per 1M tokens (models.dev's unit). Missing cache prices mean 0, as in OpenCode. */
const Prices = z.object({
  input: Usd,
  output: Usd,
  cache_read: Usd.default(0),
  cache_write: Usd.default(0),
});

/** A context tier: applies when the context size is strictly above `min_context_tokens`. */
export const TierSchema = Prices.extend({
  min_context_tokens: z.number().int().positive(),
}).strict();

export const ModelPriceSchema = Prices.extend({
  aliases: z.array(z.string().min(1)).default([]),
  tiers: z.array(TierSchema).default([]),
  /** Where the numbers came from (file and commit, or URL). */
  source: z.string().min(1),
  /** Date of the data; defaults to the snapshot's `as_of`. */
  as_of: IsoDate.optional(),
  note: z.string().optional(),
})
  .strict()
  .superRefine((model, ctx) => {
    const sizes = model.tiers.map((t) => t.min_context_tokens);
    if (new Set(sizes).size !== sizes.length) {
      ctx.addIssue({ code: 'custom', message: 'duplicate tier min_context_tokens', path: ['tiers'] });
    }
  });

export const ProviderSchema = z
  .object({
    /** How the provider bills: `subscription` providers record cost 0 in OpenCode. */
    billing: z.enum(['api', 'subscription', 'free', 'mixed']).default('api'),
    note: z.string().optional(),
    models: z.record(z.string().min(1), ModelPriceSchema).default({}),
  })
  .strict();

export const PricingSnapshotSchema = z
  .object({
    $comment: z.string().optional(),
    schema_version: z.literal(1),
    currency: z.literal('USD'),
    unit: z.literal('per_1m_tokens'),
    as_of: IsoDate,
    sources: z
      .record(
        z.string(),
        z.object({ url: z.string(), retrieved: IsoDate, note: z.string().optional() }).strict(),
      )
      .default({}),
    providers: z.record(z.string().min(1), ProviderSchema),
  })
  .strict();

export type PricingSnapshot = z.infer<typeof PricingSnapshotSchema>;
export type ProviderPricing = z.infer<typeof ProviderSchema>;
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/** One row of the `model_pricing` table (tier 0 = base price). */
export interface PricingRow {
  provider_id: string;
  model_id: string;
  tier_min_context_tokens: number;
  input_per_mtok: number;
  output_per_mtok: number;
  cache_read_per_mtok: number;
  cache_write_per_mtok: number;
  source: string;
  /** YYYY-MM-DD */
  as_of: string;
  /** Other IDs the same model is known by (not stored in `model_pricing`). */
  aliases: readonly string[];
}

/** The four rates `computeCostUsd` needs. */
export type PriceRates = Pick<
  PricingRow,
  'input_per_mtok' | 'output_per_mtok' | 'cache_read_per_mtok' | 'cache_write_per_mtok'
>;

/** OpenCode's recorded token shape (`tokens` on messages and step-finish parts). */
export interface TokenUsage {
  input: number;
  output: number;
  reasoning?: number;
  cache?: { read?: number; write?: number };
}

/** Flattens a validated snapshot into rows, one per (provider, model, tier). */
export function snapshotToRows(snapshot: PricingSnapshot): PricingRow[] {
  const rows: PricingRow[] = [];
  for (const [providerId, provider] of Object.entries(snapshot.providers)) {
    for (const [modelId, model] of Object.entries(provider.models)) {
      const common = {
        provider_id: providerId,
        model_id: modelId,
        source: model.source,
        as_of: model.as_of ?? snapshot.as_of,
        aliases: model.aliases,
      };
      rows.push({
        ...common,
        tier_min_context_tokens: 0,
        input_per_mtok: model.input,
        output_per_mtok: model.output,
        cache_read_per_mtok: model.cache_read,
        cache_write_per_mtok: model.cache_write,
      });
      for (const tier of model.tiers) {
        rows.push({
          ...common,
          tier_min_context_tokens: tier.min_context_tokens,
          input_per_mtok: tier.input,
          output_per_mtok: tier.output,
          cache_read_per_mtok: tier.cache_read,
          cache_write_per_mtok: tier.cache_write,
        });
      }
    }
  }
  return rows;
}

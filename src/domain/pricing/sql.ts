/** The pricing tables' DDL and the cost query built from the pricing rules (SQL text only; the store runs it). */

/** One row per (provider, model, tier); tier 0 is the base price. */
export const MODEL_PRICING_DDL = `CREATE TABLE IF NOT EXISTS model_pricing (
  provider_id VARCHAR NOT NULL,
  model_id VARCHAR NOT NULL,
  tier_min_context_tokens INTEGER NOT NULL DEFAULT 0,
  input_per_mtok DOUBLE NOT NULL,
  output_per_mtok DOUBLE NOT NULL,
  cache_read_per_mtok DOUBLE NOT NULL DEFAULT 0,
  cache_write_per_mtok DOUBLE NOT NULL DEFAULT 0,
  source VARCHAR NOT NULL,
  as_of DATE NOT NULL,
  PRIMARY KEY (provider_id, model_id, tier_min_context_tokens)
)`;

/**
 * Maps each OpenCode (provider_id, model_id) to the `model_pricing` key that prices it, as found by
 * `resolvePriceKey` (aliases, normalisation, upstream fallback). `match = 'free'` means cost 0.
 */
export const MODEL_PRICE_KEY_DDL = `CREATE TABLE IF NOT EXISTS model_price_key (
  provider_id VARCHAR NOT NULL,
  model_id VARCHAR NOT NULL,
  price_provider_id VARCHAR NOT NULL,
  price_model_id VARCHAR NOT NULL,
  match VARCHAR NOT NULL,
  PRIMARY KEY (provider_id, model_id)
)`;

/**
 * A query that prices every row of `relation` with OpenCode's formula and tier rule.
 *
 * `relation` needs the columns provider_id, model_id, input_tokens, output_tokens, reasoning_tokens,
 * cache_read_tokens, cache_write_tokens (OpenCode's recorded `tokens`, per message or per step).
 * Output: the relation's columns plus context_tokens, price_provider_id, price_model_id,
 * price_match, tier_min_context_tokens and computed_cost_usd (NULL when no price is known).
 */
export function messageCostSql(relation: string): string {
  return `WITH priced_input AS (
  SELECT t.*,
         row_number() OVER () AS _price_row,
         coalesce(t.input_tokens, 0) + coalesce(t.cache_read_tokens, 0) + coalesce(t.cache_write_tokens, 0) AS context_tokens
  FROM ${relation} t
)
SELECT i.* EXCLUDE (_price_row),
       k.price_provider_id,
       k.price_model_id,
       k.match AS price_match,
       p.tier_min_context_tokens,
       CASE
         WHEN p.provider_id IS NULL THEN NULL
         WHEN k.match = 'free' THEN 0.0
         ELSE (coalesce(i.input_tokens, 0) * p.input_per_mtok
             + coalesce(i.output_tokens, 0) * p.output_per_mtok
             + coalesce(i.cache_read_tokens, 0) * p.cache_read_per_mtok
             + coalesce(i.cache_write_tokens, 0) * p.cache_write_per_mtok
             + coalesce(i.reasoning_tokens, 0) * p.output_per_mtok) / 1e6
       END AS computed_cost_usd
FROM priced_input i
LEFT JOIN model_price_key k
       ON k.provider_id = i.provider_id AND k.model_id = i.model_id
LEFT JOIN model_pricing p
       ON p.provider_id = k.price_provider_id AND p.model_id = k.price_model_id
      AND (p.tier_min_context_tokens = 0 OR p.tier_min_context_tokens < i.context_tokens)
QUALIFY row_number() OVER (PARTITION BY i._price_row ORDER BY p.tier_min_context_tokens DESC NULLS LAST) = 1`;
}

import { inferVendor, isFreeVariant, normalizeModelId, SUBSCRIPTION_PROVIDERS } from './normalize.ts';
import type { PriceRates, PricingRow, TokenUsage } from './schema.ts';

/** How the price was found. */
export type PriceMatch =
  | 'exact' // same provider, same model ID
  | 'alias' // same provider, one of the model's aliases
  | 'normalized' // same provider, equal after normalizeModelId()
  | 'upstream' // priced as the upstream vendor's model (openrouter, bedrock, copilot, unknown providers…)
  | 'free'; // a provider's free variant (e.g. OpenRouter `:free`): all rates 0

export interface ResolvedPrice extends PricingRow {
  match: PriceMatch;
  /** The provider bills by subscription, so OpenCode records cost 0; this price is API-equivalent. */
  subscription: boolean;
}

/** A (provider_id, model_id) key into `model_pricing`. */
export interface PriceKey {
  provider_id: string;
  model_id: string;
  match: PriceMatch;
}

function keyOf(providerId: string, modelId: string): string {
  return `${providerId}\u0000${modelId}`;
}

/** Finds which (provider, model) in `rows` prices the given OpenCode pair; tier-independent. */
export function resolvePriceKey(
  rows: readonly PricingRow[],
  providerId: string,
  modelId: string,
): PriceKey | undefined {
  const key = findPriceKey(rows, providerId, modelId);
  return key && isFreeVariant(modelId) ? { ...key, match: 'free' } : key;
}

function findPriceKey(
  rows: readonly PricingRow[],
  providerId: string,
  modelId: string,
): PriceKey | undefined {
  const sameProvider = rows.filter((r) => r.provider_id === providerId);
  const exact = sameProvider.find((r) => r.model_id === modelId);
  if (exact) return { provider_id: providerId, model_id: exact.model_id, match: 'exact' };
  const alias = sameProvider.find((r) => r.aliases.includes(modelId));
  if (alias) return { provider_id: providerId, model_id: alias.model_id, match: 'alias' };

  const wanted = normalizeModelId(modelId);
  const matchesNormalized = (r: PricingRow) =>
    normalizeModelId(r.model_id) === wanted || r.aliases.some((a) => normalizeModelId(a) === wanted);
  const normalized = sameProvider.find(matchesNormalized);
  if (normalized) return { provider_id: providerId, model_id: normalized.model_id, match: 'normalized' };

  const vendor = inferVendor(modelId);
  if (vendor && vendor !== providerId) {
    const upstream = rows.find((r) => r.provider_id === vendor && matchesNormalized(r));
    if (upstream) return { provider_id: vendor, model_id: upstream.model_id, match: 'upstream' };
  }
  return undefined;
}

/**
 * OpenCode's tier rule (session.ts getUsage): among the tiers whose size is strictly below the
 * context size, the largest applies; otherwise the base price (tier 0).
 */
export function selectTier<T extends Pick<PricingRow, 'tier_min_context_tokens'>>(
  tiers: readonly T[],
  contextTokens: number,
): T | undefined {
  let best: T | undefined;
  for (const row of tiers) {
    const min = row.tier_min_context_tokens;
    if (min !== 0 && !(min < contextTokens)) continue;
    if (!best || min > best.tier_min_context_tokens) best = row;
  }
  return best;
}

/**
 * Price for an OpenCode (providerID, modelID) at a context size.
 * `contextTokens` = input + cache.read + cache.write (see `contextTokensOf`).
 */
export function resolvePrice(
  rows: readonly PricingRow[],
  providerId: string,
  modelId: string,
  contextTokens: number,
): ResolvedPrice | undefined {
  const key = resolvePriceKey(rows, providerId, modelId);
  if (!key) return undefined;
  const tiers = rows.filter((r) => r.provider_id === key.provider_id && r.model_id === key.model_id);
  const row = selectTier(tiers, contextTokens);
  if (!row) return undefined;
  const subscription = SUBSCRIPTION_PROVIDERS.has(providerId);
  if (key.match === 'free') {
    return {
      ...row,
      input_per_mtok: 0,
      output_per_mtok: 0,
      cache_read_per_mtok: 0,
      cache_write_per_mtok: 0,
      match: 'free',
      subscription,
    };
  }
  return { ...row, match: key.match, subscription };
}

/** Resolves many pairs at once, e.g. every distinct (provider_id, model_id) seen in messages. */
export function resolvePriceKeys(
  rows: readonly PricingRow[],
  pairs: ReadonlyArray<{ provider_id: string; model_id: string }>,
): Array<{ provider_id: string; model_id: string; price: PriceKey }> {
  const seen = new Set<string>();
  const out: Array<{ provider_id: string; model_id: string; price: PriceKey }> = [];
  for (const pair of pairs) {
    const k = keyOf(pair.provider_id, pair.model_id);
    if (seen.has(k)) continue;
    seen.add(k);
    const price = resolvePriceKey(rows, pair.provider_id, pair.model_id);
    if (price) out.push({ provider_id: pair.provider_id, model_id: pair.model_id, price });
  }
  return out;
}

/** Context size used for tier selection: input + cache read + cache write. */
export function contextTokensOf(tokens: TokenUsage): number {
  return (tokens.input ?? 0) + (tokens.cache?.read ?? 0) + (tokens.cache?.write ?? 0);
}

/**
 * OpenCode's cost formula (session.ts getUsage), USD:
 * (input·in + output·out + cache.read·cr + cache.write·cw + reasoning·out) / 1e6.
 * The terms are summed in this order so the DuckDB expression gives the identical double.
 */
export function computeCostUsd(price: PriceRates, tokens: TokenUsage): number {
  const cost =
    (tokens.input * price.input_per_mtok +
      tokens.output * price.output_per_mtok +
      (tokens.cache?.read ?? 0) * price.cache_read_per_mtok +
      (tokens.cache?.write ?? 0) * price.cache_write_per_mtok +
      (tokens.reasoning ?? 0) * price.output_per_mtok) /
    1e6;
  return Number.isFinite(cost) ? cost : 0;
}

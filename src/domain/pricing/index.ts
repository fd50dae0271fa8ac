import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type PricingRow, type PricingSnapshot, PricingSnapshotSchema, snapshotToRows } from './schema.ts';

export {
  inferVendor,
  isFreeVariant,
  normalizeModelId,
  SUBSCRIPTION_PROVIDERS,
  UPSTREAM_VENDORS,
  type UpstreamVendor,
} from './normalize.ts';
export {
  computeCostUsd,
  contextTokensOf,
  type PriceKey,
  type PriceMatch,
  type ResolvedPrice,
  resolvePrice,
  resolvePriceKey,
  resolvePriceKeys,
  selectTier,
} from './resolve.ts';
export {
  type ModelPrice,
  ModelPriceSchema,
  type PriceRates,
  type PricingRow,
  type PricingSnapshot,
  PricingSnapshotSchema,
  type ProviderPricing,
  snapshotToRows,
  type TokenUsage,
} from './schema.ts';
export { MODEL_PRICE_KEY_DDL, MODEL_PRICING_DDL, messageCostSql } from './sql.ts';

/** Path of the vendored snapshot. */
export const DEFAULT_SNAPSHOT_PATH = fileURLToPath(new URL('./snapshot.json', import.meta.url));

/** Reads and validates a snapshot file (throws a ZodError naming the bad field). */
export function loadPricingSnapshot(file: string = DEFAULT_SNAPSHOT_PATH): PricingSnapshot {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return PricingSnapshotSchema.parse(raw);
}

/**
 * Overlays `overrides` on `base`: every (provider_id, model_id) present in `overrides` replaces all
 * of that model's base rows (all tiers), so an override can also remove a tier.
 */
export function mergePricing(base: readonly PricingRow[], overrides: readonly PricingRow[]): PricingRow[] {
  const key = (r: PricingRow) => `${r.provider_id}\u0000${r.model_id}`;
  const overridden = new Set(overrides.map(key));
  return [...base.filter((r) => !overridden.has(key(r))), ...overrides];
}

/**
 * Validated pricing rows from the vendored snapshot (or `file`), with the optional user override
 * file(s) merged on top, later files winning per provider+model.
 */
export function loadPricing(file?: string, overrides: string | readonly string[] = []): PricingRow[] {
  let rows = snapshotToRows(loadPricingSnapshot(file));
  for (const path of typeof overrides === 'string' ? [overrides] : overrides) {
    rows = mergePricing(rows, snapshotToRows(loadPricingSnapshot(path)));
  }
  return rows;
}

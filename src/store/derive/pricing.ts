/**
 * The pricing tables in the store: `model_pricing` (+ `model_pricing_alias`, so the store alone can
 * resolve new model names) and `model_price_key`. Filled from the vendored snapshot the first time,
 * replaced by `ocbridge pricing update`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  insertPricingRows,
  loadPricing,
  type PricingRow,
  syncPriceKeys,
} from '../../domain/pricing/index.ts';
import { inTransaction } from '../migrate.ts';

/** What every derivation prices: the distinct (provider, model) of assistant messages. */
const PRICED_PAIRS = "(SELECT DISTINCT provider_id, model_id FROM messages WHERE role = 'assistant')";

/** Reads the price list back from the store, aliases included. */
export async function pricingRowsFromDb(conn: DuckDBConnection): Promise<PricingRow[]> {
  const reader = await conn.runAndReadAll(
    `SELECT p.provider_id, p.model_id, p.tier_min_context_tokens, p.input_per_mtok, p.output_per_mtok,
            p.cache_read_per_mtok, p.cache_write_per_mtok, p.source, CAST(p.as_of AS VARCHAR) AS as_of,
            coalesce((SELECT list(a.alias ORDER BY a.alias) FROM model_pricing_alias a
                      WHERE a.provider_id = p.provider_id AND a.model_id = p.model_id), []) AS aliases
     FROM model_pricing p ORDER BY 1, 2, 3`,
  );
  return reader.getRowObjectsJS().map((r) => ({
    provider_id: String(r.provider_id),
    model_id: String(r.model_id),
    tier_min_context_tokens: Number(r.tier_min_context_tokens),
    input_per_mtok: Number(r.input_per_mtok),
    output_per_mtok: Number(r.output_per_mtok),
    cache_read_per_mtok: Number(r.cache_read_per_mtok),
    cache_write_per_mtok: Number(r.cache_write_per_mtok),
    source: String(r.source),
    as_of: String(r.as_of),
    aliases: (r.aliases as unknown[]).map(String),
  }));
}

/**
 * Replaces the stored price list with `rows`, forgets every resolved key (they may resolve
 * differently now) and resolves the store's models again. Derived costs need a `deriveAll` after.
 */
export async function replacePricing(conn: DuckDBConnection, rows: readonly PricingRow[]): Promise<number> {
  await insertPricingRows(conn, rows);
  await inTransaction(conn, async () => {
    await conn.run('DELETE FROM model_pricing_alias');
    await conn.run('DELETE FROM model_price_key');
    const seen = new Set<string>();
    const insert = await conn.prepare('INSERT INTO model_pricing_alias VALUES ($1, $2, $3)');
    try {
      for (const r of rows)
        for (const alias of r.aliases) {
          const k = `${r.provider_id}\u0000${r.model_id}\u0000${alias}`;
          if (seen.has(k)) continue;
          seen.add(k);
          insert.bind([r.provider_id, r.model_id, alias]);
          await insert.run();
        }
    } finally {
      insert.destroySync();
    }
  });
  return syncPriceKeys(conn, rows, PRICED_PAIRS);
}

/**
 * Makes sure the price list is loaded (the vendored snapshot when the store has none) and every
 * (provider, model) in `messages` has been looked up once. Returns the number of new keys.
 */
export async function ensurePricing(conn: DuckDBConnection): Promise<number> {
  const r = await conn.runAndReadAll('SELECT count(*) FROM model_pricing');
  if (Number(r.getRows()[0]?.[0] ?? 0) === 0) return replacePricing(conn, loadPricing());
  return syncPriceKeys(conn, await pricingRowsFromDb(conn), PRICED_PAIRS);
}

/** `ocbridge pricing update`: a snapshot file (default: the vendored one) plus user override files. */
export async function updatePricingFromFiles(
  conn: DuckDBConnection,
  file?: string,
  overrides: readonly string[] = [],
): Promise<{ rows: number; keys: number }> {
  const rows = loadPricing(file, overrides);
  const keys = await replacePricing(conn, rows);
  return { rows: rows.length, keys };
}

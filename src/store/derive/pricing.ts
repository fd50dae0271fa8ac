/**
 * The pricing tables in the store: `model_pricing` (+ `model_pricing_alias`, so the store alone can
 * resolve new model names) and `model_price_key`. Filled from the vendored snapshot the first time,
 * replaced by `ocbridge pricing update`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  loadPricing,
  MODEL_PRICE_KEY_DDL,
  MODEL_PRICING_DDL,
  type PriceKey,
  type PricingRow,
  resolvePriceKeys,
} from '../../domain/pricing/index.ts';
import { inTransaction } from '../transaction.ts';

export async function createPricingTables(conn: DuckDBConnection): Promise<void> {
  await conn.run(MODEL_PRICING_DDL);
  await conn.run(MODEL_PRICE_KEY_DDL);
}

/** Replaces the contents of `model_pricing` with `rows` (bound parameters, one transaction). */
export async function insertPricingRows(conn: DuckDBConnection, rows: readonly PricingRow[]): Promise<void> {
  await inTransaction(conn, async () => {
    await conn.run('DELETE FROM model_pricing');
    const insert = await conn.prepare(
      `INSERT INTO model_pricing (provider_id, model_id, tier_min_context_tokens, input_per_mtok, output_per_mtok,
         cache_read_per_mtok, cache_write_per_mtok, source, as_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CAST($9 AS DATE))`,
    );
    try {
      for (const r of rows) {
        insert.bind([
          r.provider_id,
          r.model_id,
          r.tier_min_context_tokens,
          r.input_per_mtok,
          r.output_per_mtok,
          r.cache_read_per_mtok,
          r.cache_write_per_mtok,
          r.source,
          r.as_of,
        ]);
        await insert.run();
      }
    } finally {
      insert.destroySync();
    }
  });
}

/** Upserts resolved keys into `model_price_key`. */
export async function insertPriceKeys(
  conn: DuckDBConnection,
  keys: ReadonlyArray<{ provider_id: string; model_id: string; price: PriceKey }>,
): Promise<void> {
  if (keys.length === 0) return;
  await inTransaction(conn, async () => {
    const insert = await conn.prepare(
      `INSERT OR REPLACE INTO model_price_key (provider_id, model_id, price_provider_id, price_model_id, match)
       VALUES ($1, $2, $3, $4, $5)`,
    );
    try {
      for (const k of keys) {
        insert.bind([k.provider_id, k.model_id, k.price.provider_id, k.price.model_id, k.price.match]);
        await insert.run();
      }
    } finally {
      insert.destroySync();
    }
  });
}

/**
 * Resolves every distinct (provider_id, model_id) of `relation` (a table, view or `(SELECT …)`)
 * that has no key yet, and stores the keys. Returns the number of new keys.
 */
export async function syncPriceKeys(
  conn: DuckDBConnection,
  rows: readonly PricingRow[],
  relation: string,
): Promise<number> {
  const reader = await conn.runAndReadAll(
    `SELECT DISTINCT CAST(r.provider_id AS VARCHAR) AS provider_id, CAST(r.model_id AS VARCHAR) AS model_id
     FROM ${relation} r
     WHERE r.provider_id IS NOT NULL AND r.model_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM model_price_key k WHERE k.provider_id = r.provider_id AND k.model_id = r.model_id)`,
  );
  const pairs = reader.getRowObjectsJS().map((row) => ({
    provider_id: String(row.provider_id),
    model_id: String(row.model_id),
  }));
  const keys = resolvePriceKeys(rows, pairs);
  await insertPriceKeys(conn, keys);
  return keys.length;
}

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

import type { DuckDBConnection } from '@duckdb/node-api';
import { type PriceKey, resolvePriceKeys } from './resolve.ts';
import type { PricingRow } from './schema.ts';

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

export async function createPricingTables(conn: DuckDBConnection): Promise<void> {
  await conn.run(MODEL_PRICING_DDL);
  await conn.run(MODEL_PRICE_KEY_DDL);
}

async function inTransaction(conn: DuckDBConnection, body: () => Promise<void>): Promise<void> {
  await conn.run('BEGIN TRANSACTION');
  try {
    await body();
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK');
    throw err;
  }
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

/**
 * The same input gives the same store: two clean ingests of one generated corpus (sub-agents,
 * compactions, retries; JSON tree and databases) have identical rows in every table, derived ones
 * included, byte for byte (each row's text hashed, the hashes summed per table). Only the bookkeeping of when
 * things ran is left out.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCorpus } from '../../src/gen/index.ts';
import type { Store } from '../../src/store/db.ts';
import { tempDir } from '../support/datadir.ts';
import { ingestInto, rows } from '../support/store.ts';

/** Tables that record when and how an ingest ran, not what the data is. */
const BOOKKEEPING = new Set([
  'schema_migrations',
  'source_files',
  'source_state',
  'source_listings',
  'ingest_errors',
  'derive_queue',
  'health_check_history',
]);

async function fingerprint(store: Store): Promise<Record<string, string>> {
  const tables = (await rows(
    store,
    'SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary ORDER BY 1',
  )) as { table_name: string }[];
  const out: Record<string, string> = {};
  for (const { table_name: t } of tables) {
    if (BOOKKEEPING.has(t)) continue;
    const [r] = await rows(
      store,
      // two order-free 64-bit sums over each row's text (a sorted string_agg of the raw tables runs
      // out of DuckDB's memory)
      `SELECT count(*) AS n, sum(hash(x::VARCHAR)::HUGEINT)::VARCHAR || '/' || coalesce(bit_xor(hash('#' || x::VARCHAR)), 0)::VARCHAR AS h FROM "${t}" AS x`,
    );
    out[t] = `${r?.n} ${r?.h}`;
  }
  return out;
}

describe('deterministic', () => {
  it('two clean ingests of the same corpus give identical tables, derived ones included', async () => {
    const src = join(tempDir('ocb-hostile-gen-'), 'data');
    await generateCorpus({ out: src, sessions: 30, seed: 25 });
    const prints: Record<string, string>[] = [];
    for (let i = 0; i < 2; i++) {
      const { store } = await ingestInto(src);
      try {
        prints.push(await fingerprint(store));
      } finally {
        store.close();
      }
    }
    const [a, b] = prints as [Record<string, string>, Record<string, string>];
    expect(Object.keys(a).length).toBeGreaterThan(15);
    expect(Number(a.exchange_traces?.split(' ')[0])).toBeGreaterThan(0);
    expect(b).toEqual(a);
  }, 300_000);
});

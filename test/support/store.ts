import { join } from 'node:path';
import { type IngestSummary, runIngest } from '../../src/pipeline/ingestor.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { queryRows } from '../../src/store/query.ts';
import { tempDir } from './datadir.ts';

export async function ingestInto(source: string, dbPath = join(tempDir('ocb-db-'), 'store.duckdb')) {
  const store = await openStore(dbPath);
  const summary: IngestSummary = await runIngest(store, { source, workers: 0 });
  return { store, summary, dbPath };
}

export async function rows(store: Store, sql: string, params?: unknown[]) {
  return queryRows(store.conn, sql, params);
}

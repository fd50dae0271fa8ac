import type { Migration } from '../migrate.ts';

/**
 * The export's span rows, derived with the analytics model (src/store/derive/span-rows.ts): one packed
 * string per exchange. Only a cache of a query over the raw and derived tables: an exchange without a
 * row of the current format is computed by the export itself, and the next ingest derives it.
 */
export const m014: Migration = {
  version: 14,
  name: 'exchange_span_rows',
  up: [
    `CREATE TABLE exchange_span_rows (
      exchange_id VARCHAR NOT NULL, session_id VARCHAR, span_rows INTEGER NOT NULL, format INTEGER NOT NULL,
      packed VARCHAR NOT NULL)`,
  ],
  down: ['DROP TABLE exchange_span_rows'],
};

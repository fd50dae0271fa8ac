import type { Migration } from '../migrate.ts';

/**
 * One fingerprint per folder kind of a JSON tree (src/store/file-checkpoints.ts): when a re-ingest
 * lists exactly what the last complete ingest of that kind listed, the per-file comparison against
 * `source_files` is skipped. Only a cache: dropping it costs one full comparison, never data.
 */
export const m013: Migration = {
  version: 13,
  name: 'source_listings',
  up: [
    `CREATE TABLE source_listings (
      root VARCHAR NOT NULL, kind VARCHAR NOT NULL, files BIGINT NOT NULL, digest VARCHAR NOT NULL,
      recorded_at TIMESTAMP NOT NULL,
      PRIMARY KEY (root, kind))`,
  ],
  down: ['DROP TABLE source_listings'],
};

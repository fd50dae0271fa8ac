import type { Migration } from '../migrate.ts';

/**
 * Results of the data health checks (src/store/health/, docs/operations.md): one row per check per
 * run. Depends on no other migration; version 11 is left to another feature.
 */
export const m012: Migration = {
  version: 12,
  name: 'health_check_history',
  up: [
    `CREATE TABLE health_check_history (
      run_id VARCHAR NOT NULL, checked_at TIMESTAMP NOT NULL, check_id VARCHAR NOT NULL,
      status VARCHAR NOT NULL, value DOUBLE, warn_threshold DOUBLE, fail_threshold DOUBLE,
      explanation VARCHAR NOT NULL,
      PRIMARY KEY (run_id, check_id))`,
  ],
  down: ['DROP TABLE health_check_history'],
};

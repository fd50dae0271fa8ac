import type { Migration } from '../migrate.ts';

/**
 * The OpenTelemetry export ledger (src/otel/ledger.ts, docs/otel.md). Versions 2–9 belong to the
 * analytics model; this one depends on none of them.
 */
export const m010: Migration = {
  version: 10,
  name: 'export_ledger',
  up: [
    `CREATE TABLE export_ledger (
      signal VARCHAR NOT NULL, exchange_id VARCHAR NOT NULL, status VARCHAR NOT NULL,
      trace_id VARCHAR, span_count INTEGER, attempts INTEGER NOT NULL, export_count INTEGER NOT NULL,
      first_attempt_at TIMESTAMP, last_attempt_at TIMESTAMP, exported_at TIMESTAMP,
      last_error VARCHAR, endpoint VARCHAR,
      PRIMARY KEY (signal, exchange_id))`,
  ],
  down: ['DROP TABLE export_ledger'],
};

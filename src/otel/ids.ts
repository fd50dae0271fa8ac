/**
 * Deterministic trace and span IDs: the pure functions live in src/store/trace-ids.ts so that the
 * HTTP API (which may not import src/otel) computes the same trace IDs. Re-exported here unchanged.
 */
export * from '../store/trace-ids.ts';

/** Data health checks: what a check is, what it returns, and the live state some checks need. */
import type { DuckDBConnection } from '@duckdb/node-api';

export type HealthStatus = 'pass' | 'warn' | 'fail';

/** `max`: the value must stay at or below the thresholds; `min`: at or above them. */
export type Direction = 'max' | 'min';

export interface Threshold {
  /** beyond this: warn (optional) */
  warn?: number;
  /** beyond this: fail */
  fail: number;
}

export interface HealthResult {
  id: string;
  status: HealthStatus;
  /** the measured value; null when the check could not measure (e.g. no live state, no baseline) */
  value: number | null;
  unit: string;
  direction: Direction;
  threshold: Threshold;
  /** one line: what was measured and what it means */
  explanation: string;
  ms: number;
}

export interface SourceState {
  path: string;
  kind: 'storage' | 'db' | 'root';
}

/**
 * What only a running bridge (or the CLI around the store) knows. Every field is optional: a check
 * whose input is missing passes with value null and says it was not measured.
 */
export interface HealthContext {
  now?: Date;
  /** the OpenCode sources the bridge reads (checked for readability) */
  sources?: SourceState[];
  /** ms since the oldest change seen by the watcher that is not applied yet (0 when idle) */
  watchLagMs?: number | null;
  /** live mode: changes seen and not applied yet, and the last error while applying keeps failing */
  pendingChanges?: number;
  applyError?: string | null;
  /** finished exchanges not yet exported (traces); null/undefined when export is not in use */
  exportBacklog?: number | null;
  /** the window of the ingest_errors check, in hours (default 24) */
  ingestErrorHours?: number;
  /** models deliberately without a price (`provider/model` or `model`) */
  unpricedModels?: string[];
  /** threshold overrides by check id */
  thresholds?: Record<string, Partial<Threshold>>;
  /** only these checks (ids) */
  only?: string[];
}

export interface Measured {
  value: number | null;
  explanation: string;
}

export interface CheckDef {
  id: string;
  unit: string;
  direction: Direction;
  threshold: Threshold;
  /** one line: what the check guards */
  description: string;
  measure(conn: DuckDBConnection, ctx: HealthContext & { now: Date }): Promise<Measured>;
}

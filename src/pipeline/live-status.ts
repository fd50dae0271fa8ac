/**
 * What live mode has not applied yet and whether applying fails: the retry schedule (exponential
 * backoff) and the numbers /api/health, /metrics and `ocbridge health` report.
 */

/** Consecutive failures of one kind of work, and when to try again. */
export class Backoff {
  failures = 0;
  /** unix ms of the first failure of the current streak (null: the last attempt succeeded) */
  since: number | null = null;
  lastError: string | null = null;
  private nextAt = 0;

  constructor(
    private readonly baseMs = 250,
    private readonly maxMs = 30_000,
  ) {}

  /** Records a failure; returns the delay before the next attempt. */
  fail(e: unknown, now = Date.now()): number {
    this.failures++;
    this.since ??= now;
    this.lastError = (e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 500) ?? '';
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** (this.failures - 1));
    this.nextAt = now + delay;
    return delay;
  }

  ok(): void {
    this.failures = 0;
    this.since = null;
    this.lastError = null;
    this.nextAt = 0;
  }

  /** ms until the next attempt is due (0: now). */
  waitMs(now = Date.now()): number {
    return Math.max(0, this.nextAt - now);
  }
}

export interface LiveStatus {
  /** changes seen and not applied yet (files and databases) */
  pendingChanges: number;
  /** age of the oldest of them (ms; 0 when none) */
  oldestPendingMs: number;
  /** applying changes fails: since when (unix ms), how often in a row, the last error, next try */
  failingSince: number | null;
  consecutiveFailures: number;
  lastError: string | null;
  retryInMs: number;
  /** sessions wait for their derived data (a derivation is due or running) */
  derivePending: boolean;
  deriveFailingSince: number | null;
  deriveLastError: string | null;
  /** the DuckDB instance is unusable: the process must restart */
  fatal: string | null;
  /** something fails or waits too long: `degraded` in /api/health */
  degraded: boolean;
}

/**
 * Test seam for `ocbridge run`: OCBRIDGE_TEST_FAIL_COMMITS="<n>:<message>" makes the first n live
 * batches fail before they commit, with that message (e.g. a DuckDB out-of-memory or "database has
 * been invalidated"), so tests can drive the retry, degraded and restart paths of the real process.
 */
export function failCommitsFromEnv(env: NodeJS.ProcessEnv = process.env): (() => void) | undefined {
  const m = /^(\d+):(.+)$/s.exec(env.OCBRIDGE_TEST_FAIL_COMMITS ?? '');
  if (!m) return undefined;
  let left = Number(m[1]);
  const message = m[2] as string;
  return () => {
    if (left <= 0) return;
    left--;
    throw new Error(message);
  };
}

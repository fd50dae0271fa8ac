/**
 * Trace export while `ocbridge run` follows OpenCode: every complete exchange goes to the OTLP
 * collector once (the ledger in DuckDB decides what is pending, so a restart resumes; history is
 * backfilled by the first pass). Runs on its own DuckDB connection, one pass at a time, after each
 * derivation and on a timer (an exchange also completes by going idle). A collector that is down
 * only delays: the pass gives up after `maxRetryMs`, the backlog stays in the ledger, the next pass
 * tries again.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { type ExportTracesOptions, type ExportTracesResult, exportTraces } from '../otel/export.ts';
import { DUCKDB_BUDGETS } from '../resources.ts';
import type { Store } from '../store/db.ts';

export interface LiveExportOptions
  extends Pick<
    ExportTracesOptions,
    'endpoint' | 'protocol' | 'headers' | 'serviceName' | 'captureContent' | 'idleTimeoutMs' | 'env'
  > {
  /** Time between passes when nothing else triggers one (default 10 s). */
  intervalMs?: number;
  /** DuckDB memory limit during a pass (default: `DUCKDB_BUDGETS.traceExportMemoryLimit`). */
  memoryLimit?: string;
  /** A pass gives up after the collector has not acknowledged for this long (default 60 s). */
  maxRetryMs?: number;
  logger?: Logger;
  /** Called after each pass (metrics, tests). */
  onPass?: (r: ExportTracesResult) => void;
}

export class LiveTraceExport {
  private conn: DuckDBConnection | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly opts: LiveExportOptions = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => this.trigger(), this.opts.intervalMs ?? 10_000);
    this.timer.unref();
    this.trigger();
  }

  /** Asks for a pass (coalesced: at most one runs, one more follows if asked meanwhile). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.trigger();
      }
    });
  }

  /** Resolves when no pass is running or queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pass(): Promise<void> {
    const log = this.opts.logger;
    try {
      this.conn ??= await this.store.instance.connect();
      const conn = this.conn;
      // reading spans needs more DuckDB memory than the bridge keeps while watching: borrow a larger pool
      const memory_limit = this.opts.memoryLimit ?? DUCKDB_BUDGETS.traceExportMemoryLimit;
      const r = await this.store.settings.during({ memory_limit }, () =>
        exportTraces(conn, {
          ...this.opts,
          instance: this.store.instance,
          maxRetryMs: this.opts.maxRetryMs ?? 60_000,
          // a live pass sends what is pending now in small reads: the bridge's DuckDB memory is shared
          batchSpans: 4096,
          readSpans: 4096,
          signal: this.abort.signal,
          log: (line) => log?.debug({ component: 'trace-export' }, line),
        }),
      );
      if (r.spans > 0 || !r.ok)
        log?.[r.ok ? 'info' : 'warn'](
          {
            component: 'trace-export',
            exchanges: r.exchanges,
            spans: r.spans,
            backlogExchanges: r.backlogExchanges,
            url: r.url,
            ...(r.reason ? { reason: r.reason } : {}),
          },
          r.ok
            ? 'exported traces'
            : 'trace export incomplete; the backlog stays in the ledger and is retried',
        );
      this.opts.onPass?.(r);
    } catch (e) {
      log?.warn(
        { component: 'trace-export', err: (e as Error).message },
        'trace export failed; retried later',
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
    await this.idle();
    this.conn?.closeSync();
    this.conn = null;
  }
}

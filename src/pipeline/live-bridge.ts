/**
 * Live mode (`ocbridge run`): watch first, then bulk-load, then apply changes as they happen.
 * Handoff: events that arrive while the bulk load runs are queued and applied after it; applying is
 * idempotent and ordered (fingerprints for files, `time_updated` high-water marks for rows), so a
 * change seen twice is applied once and an older read never lands after a newer one. Each applied
 * batch is one transaction together with its checkpoints, so kill -9 at any point is safe.
 * A change is applied or visibly pending, never dropped: a batch that fails is queued again and
 * retried with exponential backoff, in smaller pieces each time (down to one file, and database rows
 * committed batch by batch), until it is applied; meanwhile `status` says how much waits and since
 * when. An error after which DuckDB is unusable ("database has been invalidated") emits `fatal`: the
 * process must restart (`ocbridge run` exits non-zero) and catches up from the stored checkpoints.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { discoverSources, type Sources } from '../ingest/discover.ts';
import { type JsonFileRef, refFromPath } from '../ingest/json-tree.ts';
import { SourceWatcher, WatchLimitError } from '../ingest/watch.ts';
import { DUCKDB_BUDGETS } from '../resources.ts';
import { isFatalDuckDbError, type Store } from '../store/db.ts';
import type { WriteStats } from '../store/writer.ts';
import { type IngestOptions, Ingestor, type IngestSummary } from './ingestor.ts';
import { Backoff, type LiveStatus } from './live-status.ts';

export type { LiveStatus } from './live-status.ts';

export interface LiveOptions extends IngestOptions {
  /** Collect events for this long before applying them (ms). */
  debounceMs?: number;
  /** How often to retry a file that doesn't parse yet (half-written), and how many times. */
  retryDelayMs?: number;
  maxRetries?: number;
  /** DuckDB's memory limit once live (default `DUCKDB_BUDGETS.liveMemoryLimit`; the history load runs with the store's). */
  liveMemoryLimit?: string;
  /** A change that waits this long (ms) makes the status degraded even without a failure (default 30 s). */
  degradedAfterMs?: number;
  /** Applying changes that fails without a break for this long (ms) is fatal: restart (default 10 min). */
  maxFailingMs?: number;
  /** First retry delay after a failure (ms; doubles up to 30 s). */
  retryBaseMs?: number;
  /** Test seam: called before each live batch commits; what it throws fails the batch. */
  beforeCommit?: () => void;
  /** How often to look for a vanished data dir. */
  recoverPollMs?: number;
  logger?: Logger;
}

export interface AppliedEvent {
  files: number;
  rows: number;
  /** ms from the first queued event of the batch to the commit. */
  latencyMs: number;
}

export class LiveBridge extends EventEmitter<{
  applied: [AppliedEvent];
  flushed: [];
  /** Derived data was brought up to date for this many sessions (and these: the queued ones). */
  derived: [number, ReadonlySet<string>];
  ready: [IngestSummary];
  error: [Error];
  /** DuckDB is unusable (or applying failed for maxFailingMs): nothing more is applied; restart. */
  fatal: [Error];
}> {
  private ingestor: Ingestor | null = null;
  private watcher: SourceWatcher | null = null;
  private dirtyJson = new Set<string>();
  private readonly dirtyDb = new Set<string>();
  private readonly retries = new Map<string, number>();
  private firstEventAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private live = false;
  private stopped = false;
  private sources: Sources | null = null;
  private recovering = false;
  private presence: NodeJS.Timeout | null = null;
  private deriving: Promise<void> | null = null;
  private bulkMemoryLimit: string | null = null;
  private deriveConn: DuckDBConnection | null = null;
  /** every change seen and not applied yet -> unix ms it was first seen (insertion order: oldest first) */
  private readonly seenAt = new Map<string, number>();
  private readonly applyBackoff: Backoff;
  private readonly deriveBackoff: Backoff;
  /** at most this many files per transaction (halved after each failure, doubled back after success) */
  private maxFiles = Infinity;
  private lastBatchSize = 0;
  private fatalError: Error | null = null;
  private derivePending = false;
  private deriveAgain = false;
  private deriveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly opts: LiveOptions = {},
  ) {
    super();
    this.applyBackoff = new Backoff(opts.retryBaseMs ?? 250);
    this.deriveBackoff = new Backoff(opts.retryBaseMs ?? 250);
  }

  /** What waits and what fails (for /api/health, /metrics and `ocbridge health`). */
  get status(): LiveStatus {
    const now = Date.now();
    const oldest = this.seenAt.values().next().value;
    const oldestPendingMs = oldest === undefined ? 0 : now - oldest;
    const a = this.applyBackoff;
    const d = this.deriveBackoff;
    return {
      pendingChanges: this.seenAt.size,
      oldestPendingMs,
      failingSince: a.since,
      consecutiveFailures: a.failures,
      lastError: a.lastError,
      retryInMs: a.waitMs(now),
      derivePending: this.derivePending,
      deriveFailingSince: d.since,
      deriveLastError: d.lastError,
      fatal: this.fatalError?.message.split('\n')[0] ?? null,
      degraded:
        this.fatalError !== null ||
        a.since !== null ||
        d.since !== null ||
        oldestPendingMs > (this.opts.degradedAfterMs ?? 30_000),
    };
  }

  /** ms since the oldest change seen and not applied yet (0 when nothing waits): the watch lag. */
  get pendingMs(): number {
    const oldest = Math.min(this.firstEventAt ?? Infinity, this.applyingSince ?? Infinity);
    return oldest === Infinity ? 0 : performance.now() - oldest;
  }
  /** when the changes being applied now were first seen (null when not applying) */
  private applyingSince: number | null = null;

  /** Counters of the current writer (rows and problems written; metrics read them after each batch). */
  get writeStats(): WriteStats | null {
    return this.ingestor?.writer.stats ?? null;
  }

  /** Unix ms of the newest source change the watcher reported (null: none yet). */
  lastChangeSeenAt: number | null = null;
  /** Unix ms of the last successful apply commit (bulk load or live batch; null: none yet). */
  lastCommitAt: number | null = null;

  /** Starts watching, runs the bulk load, applies what queued up meanwhile; resolves when live. */
  async start(): Promise<IngestSummary> {
    const sources = discoverSources(this.opts.source);
    this.sources = sources;
    const watchRoot =
      sources.dbFiles.length === 1 && sources.root === sources.dbFiles[0]
        ? dirname(sources.root)
        : sources.root;
    const onlyDb = sources.root.endsWith('.db') ? sources.root : null;
    this.watcher = new SourceWatcher(watchRoot, {
      json: (p) => this.queue(this.dirtyJson, p),
      db: (f) => {
        if (!onlyDb || f === onlyDb) this.queue(this.dirtyDb, f);
      },
      storageAppeared: (dir) => {
        this.opts.logger?.info({ dir }, 'a storage/ tree appeared; loading it');
        if (this.sources) this.sources.storageDir = dir;
      },
      error: (message) => {
        this.opts.logger?.warn({ message }, 'watch problem');
        if (!existsSync(watchRoot)) void this.recover(watchRoot);
      },
    });
    try {
      this.watcher.start();
    } catch (e) {
      if (e instanceof WatchLimitError) this.opts.logger?.error(e.message);
      throw e;
    }
    this.opts.logger?.info({ watches: this.watcher.watchCount, root: watchRoot }, 'watching');
    await this.ingestor?.close();
    this.ingestor = new Ingestor(this.store, sources, this.opts);
    // a data dir that vanishes doesn't always fail its watch: look for it now and then
    if (this.presence) clearInterval(this.presence);
    this.presence = setInterval(() => {
      if (!existsSync(watchRoot)) void this.recover(watchRoot);
    }, this.opts.recoverPollMs ?? 2000);
    this.presence.unref();
    // (after a recovery, the load gets its big buffer pool back)
    this.bulkMemoryLimit ??= this.store.settings.current('memory_limit') ?? DUCKDB_BUDGETS.storeMemoryLimit;
    await this.store.settings.set({ memory_limit: this.bulkMemoryLimit });
    const summary = await this.ingestor.bulk();
    // the history load needed a big buffer pool; watching needs little: give the memory back
    await this.store.settings.set({
      memory_limit: this.opts.liveMemoryLimit ?? DUCKDB_BUDGETS.liveMemoryLimit,
    });
    this.live = true;
    this.lastCommitAt = Date.now();
    this.emit('ready', summary);
    if (this.dirtyJson.size > 0 || this.dirtyDb.size > 0) this.schedule(0);
    return summary;
  }

  private queue(set: Set<string>, item: string): void {
    if (this.stopped) return;
    set.add(item);
    const key = `${set === this.dirtyDb ? 'db' : 'json'}:${item}`;
    if (!this.seenAt.has(key)) this.seenAt.set(key, Date.now());
    this.firstEventAt ??= performance.now();
    this.lastChangeSeenAt = Date.now();
    if (this.live) this.schedule(this.opts.debounceMs ?? 25);
  }

  private schedule(delay: number): void {
    if (this.timer || this.stopped || this.fatalError) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.chain = this.chain.then(() => this.flush()).catch((e: Error) => this.failed(e));
      },
      Math.max(delay, this.applyBackoff.waitMs()),
    );
  }

  /** A batch failed and was rolled back (and queued again by flush): retry later, in smaller pieces. */
  private failed(e: Error): void {
    this.ingestor?.invalidate();
    const delay = this.applyBackoff.fail(e);
    const failingMs = Date.now() - (this.applyBackoff.since ?? Date.now());
    if (isFatalDuckDbError(e) || failingMs > (this.opts.maxFailingMs ?? 600_000)) {
      this.die(e);
    } else {
      this.maxFiles = Math.max(1, Math.floor(this.lastBatchSize / 2));
      this.opts.logger?.error(
        { err: e, pending: this.seenAt.size, retryInMs: delay, nextBatchFiles: this.maxFiles },
        'applying changes failed; queued again, retrying',
      );
      if (this.listenerCount('error') > 0) this.emit('error', e);
      this.schedule(delay);
    }
    this.emit('flushed');
  }

  /** DuckDB is unusable: stop applying (nothing is dropped: the store's checkpoints say what is missing). */
  private die(e: Error): void {
    if (this.fatalError) return;
    this.fatalError = e;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.opts.logger?.fatal(
      { err: e, pending: this.seenAt.size },
      'the store cannot apply changes any more; a restart catches up',
    );
    this.emit('fatal', e);
  }

  /** Applies everything queued, in one or more transactions. */
  private async flush(): Promise<void> {
    const ingestor = this.ingestor;
    if (!ingestor) return;
    const started = this.firstEventAt ?? performance.now();
    this.firstEventAt = null;
    this.applyingSince = started;
    const dbs = [...this.dirtyDb];
    this.dirtyDb.clear();
    // after a failure, at most maxFiles files (the oldest first); the rest follows in the next batch
    const queued = [...this.dirtyJson];
    const paths = queued.slice(0, this.maxFiles);
    this.dirtyJson = new Set(queued.slice(paths.length));
    this.lastBatchSize = paths.length;
    // after a failure, database rows are committed in small batches (each with its high-water mark)
    const split = this.applyBackoff.failures > 0 ? { batchSize: 500, commitEach: true } : {};
    let files = 0;
    let rows = 0;
    // one transaction per flush: rows, checkpoints and derived data commit together (kill -9 safe)
    try {
      await ingestor.writer.startBulk();
      for (const db of dbs) {
        if (!existsSync(db)) continue;
        if (!this.sources?.dbFiles.includes(db)) this.sources?.dbFiles.push(db);
        rows += (await ingestor.applyDatabase(db, split)).rows;
      }
      const storage = this.sources?.storageDir;
      if (storage && paths.length > 0) {
        const refs = paths.map((p) => refFromPath(storage, p)).filter((r): r is JsonFileRef => r !== null);
        const applied = await ingestor.applyJson(refs, { recordFailures: false });
        files += applied.files;
        rows += applied.rows;
        for (const p of applied.failed)
          await this.retry(
            p,
            refs.find((r) => r.path === p),
          );
        for (const r of refs) if (!applied.failed.includes(r.path)) this.retries.delete(r.path);
      }

      await ingestor.writer.finalize();
      this.opts.beforeCommit?.();
      await ingestor.writer.endBulk(true);
    } catch (e) {
      // rolled back (or its commit failed): nothing of this batch is stored; queue it again, first,
      // unless it is one file alone (that one may never fit: the others go on meanwhile)
      const rest = [...this.dirtyJson];
      this.dirtyJson = new Set(paths.length > 1 ? [...paths, ...rest] : [...rest, ...paths]);
      for (const d of dbs) this.dirtyDb.add(d);
      this.firstEventAt = Math.min(this.firstEventAt ?? Infinity, started);
      this.applyingSince = null;
      await ingestor.writer.abortBulk();
      throw e;
    }
    this.lastCommitAt = Date.now();
    this.applyingSince = null;
    // applied, unless seen again meanwhile or waiting for a re-read (half-written)
    for (const d of dbs) if (!this.dirtyDb.has(d)) this.seenAt.delete(`db:${d}`);
    for (const p of paths)
      if (!this.dirtyJson.has(p) && !this.retries.has(p)) this.seenAt.delete(`json:${p}`);
    if (this.applyBackoff.failures > 0)
      this.opts.logger?.info({ files, rows }, 'applying changes works again');
    this.applyBackoff.ok();
    if (this.maxFiles !== Infinity) this.maxFiles = this.maxFiles >= 4096 ? Infinity : this.maxFiles * 2;
    if (this.dirtyJson.size > 0 || this.dirtyDb.size > 0) this.schedule(0);
    this.scheduleDerive();
    if (files > 0 || rows > 0) this.emit('applied', { files, rows, latencyMs: performance.now() - started });
    this.emit('flushed');
  }

  /**
   * Derivation runs on its own connection and its own schedule, so applying raw changes never waits
   * for it: rows are queryable at once, derived tables follow (coalesced: one run at a time, each
   * taking every session queued so far).
   */
  private scheduleDerive(): void {
    if (this.opts.derive === false || this.stopped || this.fatalError) return;
    this.derivePending = true;
    if (this.deriving) {
      this.deriveAgain = true; // rows committed while it runs: run again after it
      return;
    }
    if (this.deriveTimer) return; // a retry is due
    this.deriving = (async () => {
      let retryIn = 0;
      try {
        this.deriveAgain = false;
        this.deriveConn ??= await this.store.instance.connect();
        for (;;) {
          const n = (await this.ingestor?.deriveQueued(this.deriveConn)) ?? 0;
          if (n === 0 || this.stopped) break;
          this.emit('derived', n, this.ingestor?.lastDerived ?? new Set());
        }
        this.deriveBackoff.ok();
        this.derivePending = this.deriveAgain;
      } catch (e) {
        if (isFatalDuckDbError(e)) this.die(e as Error);
        else {
          // the sessions stay in the derive queue: derived again after the backoff
          retryIn = this.deriveBackoff.fail(e);
          this.opts.logger?.warn({ err: e, retryInMs: retryIn }, 'deriving failed; retrying');
        }
      } finally {
        this.deriving = null;
      }
      if (retryIn > 0) {
        this.deriveTimer = setTimeout(() => {
          this.deriveTimer = null;
          this.scheduleDerive();
        }, retryIn);
        this.deriveTimer.unref();
      } else if (this.deriveAgain) this.scheduleDerive();
    })();
  }

  /** A file that doesn't parse is probably half-written: read it again soon, then give up and record it. */
  private async retry(path: string, ref: JsonFileRef | undefined): Promise<void> {
    const n = (this.retries.get(path) ?? 0) + 1;
    if (n > (this.opts.maxRetries ?? 5)) {
      this.retries.delete(path);
      if (ref && this.ingestor)
        await this.ingestor.recordFailure(
          ref,
          'invalid JSON after repeated reads (truncated or half-written?)',
        );
      return;
    }
    this.retries.set(path, n);
    setTimeout(() => this.queue(this.dirtyJson, path), (this.opts.retryDelayMs ?? 100) * n).unref();
  }

  /**
   * The data dir vanished (unmounted, moved, deleted): report it, wait for it to come back, then
   * watch it again and catch up with an incremental load. Nothing stored is touched meanwhile.
   */
  private async recover(root: string): Promise<void> {
    if (this.recovering || this.stopped) return;
    this.recovering = true;
    this.watcher?.close();
    this.opts.logger?.error({ root }, 'the OpenCode data dir is gone; waiting for it to come back');
    while (!this.stopped && !existsSync(root)) {
      await new Promise((r) => setTimeout(r, this.opts.recoverPollMs ?? 2000));
    }
    if (this.stopped) return;
    this.opts.logger?.info({ root }, 'the OpenCode data dir is back; catching up');
    this.recovering = false;
    this.live = false;
    this.chain = this.chain.then(async () => {
      await this.start();
    });
    await this.chain;
  }

  /** Resolves once nothing is queued, scheduled or being applied (or applying is fatal). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.fatalError) return;
      await this.chain;
      const pending = this.timer || this.dirtyJson.size > 0 || this.dirtyDb.size > 0 || this.retries.size > 0;
      if (!pending) return;
      if (!this.timer && (this.dirtyJson.size > 0 || this.dirtyDb.size > 0)) this.schedule(0);
      await new Promise<void>((resolve) => this.once('flushed', () => resolve()));
    }
  }

  /** Stops watching, applies what is queued, and closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.presence) clearInterval(this.presence);
    this.watcher?.close();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.deriveTimer) clearTimeout(this.deriveTimer);
    await this.chain;
    // (not while applying fails: the next start applies them from the store's checkpoints)
    const failing = this.fatalError !== null || this.applyBackoff.failures > 0;
    if (this.live && !failing && (this.dirtyJson.size > 0 || this.dirtyDb.size > 0)) {
      // what cannot be applied now is applied by the next start (its checkpoints were not written)
      await this.flush().catch((e: Error) =>
        this.opts.logger?.error({ err: e }, 'applying the last changes failed; the next start applies them'),
      );
    }
    await this.deriving;
    this.deriveConn?.closeSync();
    this.deriveConn = null;
    await this.ingestor?.close();
  }
}

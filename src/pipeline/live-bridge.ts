/**
 * Live mode (`ocbridge run`): watch first, then bulk-load, then apply changes as they happen.
 * Handoff: events that arrive while the bulk load runs are queued and applied after it; applying is
 * idempotent and ordered (fingerprints for files, `time_updated` high-water marks for rows), so a
 * change seen twice is applied once and an older read never lands after a newer one. Each applied
 * batch is one transaction together with its checkpoints, so kill -9 at any point is safe.
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
import type { Store } from '../store/db.ts';
import type { WriteStats } from '../store/writer.ts';
import { type IngestOptions, Ingestor, type IngestSummary } from './ingestor.ts';

export interface LiveOptions extends IngestOptions {
  /** Collect events for this long before applying them (ms). */
  debounceMs?: number;
  /** How often to retry a file that doesn't parse yet (half-written), and how many times. */
  retryDelayMs?: number;
  maxRetries?: number;
  /** DuckDB's memory limit once live (default `DUCKDB_BUDGETS.liveMemoryLimit`; the history load runs with the store's). */
  liveMemoryLimit?: string;
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
}> {
  private ingestor: Ingestor | null = null;
  private watcher: SourceWatcher | null = null;
  private readonly dirtyJson = new Set<string>();
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

  constructor(
    private readonly store: Store,
    private readonly opts: LiveOptions = {},
  ) {
    super();
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
    this.firstEventAt ??= performance.now();
    this.lastChangeSeenAt = Date.now();
    if (this.live) this.schedule(this.opts.debounceMs ?? 25);
  }

  private schedule(delay: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.chain = this.chain
        .then(() => this.flush())
        .catch((e: Error) => {
          this.ingestor?.invalidate();
          this.schedule(250);
          this.opts.logger?.error({ err: e }, 'applying changes failed; will retry on the next change');
          if (this.listenerCount('error') > 0) this.emit('error', e);
          this.emit('flushed');
        });
    }, delay);
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
    const paths = [...this.dirtyJson];
    this.dirtyJson.clear();
    let files = 0;
    let rows = 0;
    // one transaction per flush: rows, checkpoints and derived data commit together (kill -9 safe)
    let ok = false;
    await ingestor.writer.startBulk();
    try {
      for (const db of dbs) {
        if (!existsSync(db)) continue;
        if (!this.sources?.dbFiles.includes(db)) this.sources?.dbFiles.push(db);
        rows += (await ingestor.applyDatabase(db)).rows;
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
      ok = true;
    } finally {
      await ingestor.writer.endBulk(ok);
      if (ok) this.lastCommitAt = Date.now();
      if (!ok) {
        // rolled back: nothing of this batch is stored; queue it again
        for (const d of dbs) this.dirtyDb.add(d);
        for (const p of paths) this.dirtyJson.add(p);
      }
    }
    this.applyingSince = null;
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
    if (this.opts.derive === false || this.deriving || this.stopped) return;
    this.deriving = (async () => {
      try {
        this.deriveConn ??= await this.store.instance.connect();
        for (;;) {
          const n = (await this.ingestor?.deriveQueued(this.deriveConn)) ?? 0;
          if (n === 0 || this.stopped) break;
          this.emit('derived', n, this.ingestor?.lastDerived ?? new Set());
        }
      } catch (e) {
        this.opts.logger?.warn({ err: e }, 'deriving failed; will retry with the next change');
      } finally {
        this.deriving = null;
      }
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

  /** Resolves once nothing is queued, scheduled or being applied. */
  async idle(): Promise<void> {
    for (;;) {
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
    await this.chain;
    if (this.live && (this.dirtyJson.size > 0 || this.dirtyDb.size > 0)) await this.flush();
    await this.deriving;
    this.deriveConn?.closeSync();
    this.deriveConn = null;
    await this.ingestor?.close();
  }
}

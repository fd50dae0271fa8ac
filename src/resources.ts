/**
 * Every resource budget of the bridge, in one place: DuckDB's memory and threads per phase, the heap
 * budgets and limits of the JavaScript threads, the parser pool's size and chunks, the API's pool and
 * cache. The numbers were chosen by measurement on a 2-core machine (docs/perf-log.md); the reasons
 * are next to each. Node's own options (young generation, `--expose-gc`, `MALLOC_ARENA_MAX`) are set
 * in one place, the bin's shebang line; everything that runs the bridge runs the bin.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** DuckDB's limits. Changed at run time only through `store.settings` (src/store/settings.ts). */
export const DUCKDB_BUDGETS = {
  /** every store's memory limit at open; the derivation runs with it */
  storeMemoryLimit: '384MB',
  /** the bulk load: one DuckDB thread (the parser thread has the other core) and a smaller pool */
  bulkLoad: { memory_limit: '256MB', threads: 1 },
  /**
   * the live bridge once watching: measured, not guessed (docs/architecture.md, "Live mode"): with
   * 20 MB tool outputs at 100 items/s, 128 MB never fit one such part, 160 MB failed a commit (which
   * damaged DuckDB's primary-key index), 256 MB had no failure; 384 MB keeps 1.5x that headroom
   */
  liveMemoryLimit: '384MB',
  /** a live trace-export pass reads span rows for thousands of spans: it borrows a larger pool */
  traceExportMemoryLimit: '384MB',
  /** `ocbridge export` (a backfill): one query per group of requests, one thread is enough */
  exportThreads: 1,
  /** `ocbridge serve`: small API queries, one thread each serves concurrent requests best */
  serveThreads: 1,
} as const;

/** Heap budgets (MB of heap growth between full collections, src/ingest/heap-budget.ts). */
export const HEAP_BUDGETS = {
  /** the main thread: the writer's heap between full collections */
  mainMb: 64,
  /** a parser thread: it holds two chunks at most */
  parserMb: 32,
} as const;

/** The JSON parser threads. */
export const PARSER_LIMITS = {
  /** threads: the cores but one (the main thread writes), at least 1, at most 4 */
  threads: (): number => Math.max(1, Math.min(4, availableParallelism() - 1)),
  /** a parser thread's heap: a small old generation makes V8 collect early */
  oldGenerationMb: 256,
  /** its young generation (not the main thread's semi-spaces: see startSmallYoungWorker) */
  youngGenerationMb: 24,
  /** files per parse chunk */
  chunkFiles: 1000,
  /** bytes of JSON per parse chunk: a chunk of big files (session diffs) would be a spike of RSS */
  chunkBytes: 8 * 1024 * 1024,
  /** the bulk load commits after this much input, so a crash loses at most this much work */
  commitEveryBytes: 64 * 1024 * 1024,
} as const;

/** The HTTP API. */
export const API_LIMITS = {
  /** DuckDB connections of the API */
  poolSize: 4,
  /** the response cache: entries and bytes */
  cacheEntries: 500,
  cacheBytes: 32 * 1024 * 1024,
} as const;

const FLAG = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/;

/** The process's `--max-semi-space-size` in MB (Node options, then NODE_OPTIONS), 0 when unset. */
export function semiSpaceFlagMb(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): number {
  let mb = 0;
  const args = [...nodeOptions.split(/\s+/), ...execArgv]; // command-line options win over NODE_OPTIONS
  for (let i = 0; i < args.length; i++) {
    const m = FLAG.exec(args[i] ?? '');
    if (!m) continue;
    const v = m[1] ?? args[i + 1];
    if (v !== undefined && /^\d+$/.test(v)) mb = Number(v);
  }
  return mb;
}

let starting = 0;

/**
 * A worker thread whose young generation follows its `resourceLimits`, not the process's
 * `--max-semi-space-size` (the bin's shebang sets it for the main thread). V8 flags are per process
 * and that flag overrides a worker's `maxYoungGenerationSizeMb`: every parser thread would commit the
 * main thread's semi-spaces while using a fraction of them. V8 reads the flag when the worker's isolate
 * is created, on the worker's own thread, so the flag is cleared before the worker starts and put back
 * when it is online. The main thread's heap was configured at start-up and keeps its semi-spaces.
 */

export function startSmallYoungWorker(url: URL, opts: WorkerOptions): Worker {
  const flagMb = semiSpaceFlagMb();
  if (flagMb === 0) return new Worker(url, opts);
  if (starting++ === 0) setFlagsFromString('--max-semi-space-size=0');
  const w = new Worker(url, opts);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (--starting === 0) setFlagsFromString(`--max-semi-space-size=${flagMb}`);
  };
  w.once('online', restore);
  w.once('error', restore);
  w.once('exit', restore);
  return w;
}
